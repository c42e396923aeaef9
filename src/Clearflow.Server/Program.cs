using Clearflow.Server.Cli;
using Clearflow.Server.Hosting;

if (Commands.IsCommand(args))
{
    return await Commands.RunAsync(args);
}

var app = ClearflowHost.Build(args.SkipWhile(a => a == "serve").ToArray());
await StartupTasks.PrepareAsync(app.Services, announceDemoKey: true, app.Lifetime.ApplicationStopping);
await app.RunAsync();
return 0;

/// <summary>The entry point, public so tests can reference the assembly's host.</summary>
public partial class Program;
