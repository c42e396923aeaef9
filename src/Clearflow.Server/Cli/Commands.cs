using Clearflow.Application.Abstractions;
using Clearflow.Application.Merchants;
using Clearflow.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Cli;

/// <summary>
/// <c>clearflow [serve]</c>, <c>migrate</c>, <c>merchants create --name N</c>, <c>merchants list</c>,
/// <c>keys issue --merchant ID [--mode test|live]</c>, <c>demo-key</c>. Each runs against the configured
/// store with the same composition as the server, without listening.
/// </summary>
public static class Commands
{
    public const string Usage = """
        Usage: clearflow [command] [options]
          serve                                 run the server (default)
          migrate                               apply pending schema migrations and exit
          merchants create --name NAME          create a merchant; prints its id
          merchants list                        list merchants
          keys issue --merchant ID [--mode test|live]
                                                issue a secret API key (shown once; only its hash is stored)
          demo-key                              print the demo merchant's test secret key
          ledger verify                         check that the books balance and agree with every order (exit 1 if not)
          users add --merchant ID --email EMAIL [--role admin|operator|viewer] [--password-stdin]
                                                add a dashboard user (the first admin); asks for the password,
                                                or reads one line from standard input with --password-stdin
          users list --merchant ID              list a merchant's dashboard users
          secrets rotate                        re-seal stored gateway credentials with the active key
                                                (Clearflow:Secrets:ActiveKeyId), so older keys can be removed
        Store: CLEARFLOW_DATABASE (or Clearflow:Database); default SQLite under ./data.
        """;

    public static bool IsCommand(string[] args) => args.Length > 0 && !args[0].StartsWith('-') && args[0] != "serve";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args[0] is "help" or "--help" or "-h")
        {
            Console.WriteLine(Usage);
            return 0;
        }
        await using var app = ClearflowHost.Build([]);
        var services = app.Services;
        var store = services.GetRequiredService<IClearflowStore>();
        var cancel = CancellationToken.None;
        await store.MigrateAsync(cancel);
        using var scope = services.CreateScope();
        var sp = scope.ServiceProvider;

        switch (args)
        {
            case ["migrate", ..]:
                Console.WriteLine($"Store {store.Kind} is at the latest schema.");
                return 0;
            case ["merchants", "create", ..]:
            {
                var name = Option(args, "--name");
                if (name is null)
                {
                    return Fail("merchants create needs --name NAME.");
                }
                var created = await sp.GetRequiredService<CreateMerchant>().HandleAsync(name, cancel);
                if (!created.IsSuccess)
                {
                    return Fail(created.Error!.Errors?.Values.First()[0] ?? created.Error.Detail);
                }
                Console.WriteLine($"Merchant {created.Value!.Id} \"{created.Value.Name}\" created. Issue a key: clearflow keys issue --merchant {created.Value.Id}");
                return 0;
            }
            case ["merchants", "list", ..]:
                foreach (var merchant in await store.ListMerchantsAsync(cancel))
                {
                    Console.WriteLine($"{merchant.Id}\t{merchant.Name}\t{merchant.CreatedAt:O}");
                }
                return 0;
            case ["keys", "issue", ..]:
            {
                var merchantId = Option(args, "--merchant");
                if (merchantId is null)
                {
                    return Fail("keys issue needs --merchant ID.");
                }
                var issued = await sp.GetRequiredService<IssueApiKey>().HandleAsync(merchantId, Option(args, "--mode") ?? "test", cancel);
                if (!issued.IsSuccess)
                {
                    return Fail(issued.Error!.Detail + (issued.Error.Errors is { } e ? " " + string.Join(" ", e.Values.SelectMany(v => v)) : ""));
                }
                Console.WriteLine(issued.Value!.SecretKey);
                Console.Error.WriteLine($"Key {issued.Value.Record.Id} for {merchantId}. Store it now: Clearflow keeps only its hash.");
                return 0;
            }
            case ["demo-key", ..]:
            {
                var options = services.GetRequiredService<IOptions<ClearflowOptions>>().Value;
                var demo = await sp.GetRequiredService<EnsureDemoMerchant>()
                    .HandleAsync(Environment.GetEnvironmentVariable("CLEARFLOW_DEMO_SECRET_KEY"), options.DemoKeyFile, cancel);
                Console.WriteLine(demo.SecretKey);
                return 0;
            }
            case ["ledger", "verify", ..]:
            {
                var verification = await sp.GetRequiredService<Application.Ledger.VerifyLedger>().HandleAsync(null, cancel);
                foreach (var problem in verification.Problems)
                {
                    Console.WriteLine(problem);
                }
                Console.WriteLine(verification.Balanced
                    ? $"The books balance: {verification.OrdersChecked} orders agree with their postings."
                    : $"{verification.Problems.Count} problems in {verification.OrdersChecked} orders.");
                return verification.Balanced ? 0 : 1;
            }
            case ["users", "add", ..]:
            {
                var merchantId = Option(args, "--merchant");
                var email = Option(args, "--email");
                if (merchantId is null || email is null)
                {
                    return Fail("users add needs --merchant ID and --email EMAIL.");
                }
                var password = args.Contains("--password-stdin") ? Console.In.ReadLine() : ReadPassword();
                if (password is null)
                {
                    return Fail("No password given: type it when asked, or pipe it with --password-stdin.");
                }
                var created = await sp.GetRequiredService<Application.Dashboard.CreateDashboardUser>()
                    .HandleAsync(merchantId, email, Option(args, "--role") ?? Application.Dashboard.DashboardRoles.Admin, password, cancel);
                if (!created.IsSuccess)
                {
                    return Fail(created.Error!.Detail + (created.Error.Errors is { } e ? " " + string.Join(" ", e.Select(x => $"{x.Key}: {string.Join(" ", x.Value)}")) : ""));
                }
                Console.WriteLine($"{created.Value!.Email} ({created.Value.Role}) can sign in at /dashboard.");
                return 0;
            }
            case ["secrets", "rotate", ..]:
            {
                var outcome = await sp.GetRequiredService<Application.Gateways.ResealGatewayCredentials>().HandleAsync(cancel);
                Console.WriteLine($"Re-sealed {outcome.Resealed} credentials with key '{sp.GetRequiredService<ISecretBox>().ActiveKeyId}'; " +
                    $"{outcome.AlreadyCurrent} already used it; {outcome.Changed} changed meanwhile (run again).");
                return 0;
            }
            case ["users", "list", ..]:
            {
                var merchantId = Option(args, "--merchant");
                if (merchantId is null)
                {
                    return Fail("users list needs --merchant ID.");
                }
                foreach (var user in await store.ListDashboardUsersAsync(merchantId, cancel))
                {
                    Console.WriteLine($"{user.Id}\t{user.Email}\t{user.Role}\t{user.LastSignInAt:O}");
                }
                return 0;
            }
            default:
                return Fail($"Unknown command '{string.Join(' ', args)}'.\n{Usage}");
        }
    }

    /// <summary>Reads a password at the terminal without echoing it; null when there is no terminal.</summary>
    private static string? ReadPassword()
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }
        Console.Error.Write("Password (at least 12 characters): ");
        var password = new System.Text.StringBuilder();
        while (Console.ReadKey(intercept: true) is var key && key.Key != ConsoleKey.Enter)
        {
            if (key.Key == ConsoleKey.Backspace && password.Length > 0)
            {
                password.Length--;
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }
        Console.Error.WriteLine();
        return password.ToString();
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}
