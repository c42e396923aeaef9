using Clearflow.Application;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Gateways;
using Clearflow.Server.Dashboard;
using Clearflow.Server.Endpoints;
using Clearflow.Server.Http;
using Clearflow.Server.Http.OpenApi;
using Clearflow.Server.Sandbox;
using Clearflow.Server.Shop;
using Clearflow.Server.Workers;
using Clearflow.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Clearflow.Server.Hosting;

/// <summary>Builds the Clearflow web host; used by <c>Program</c> and by the tests, so both run the same composition.</summary>
public static class ClearflowHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (Environment.GetEnvironmentVariable("CLEARFLOW_DATABASE") is { Length: > 0 } database)
        {
            builder.Configuration["Clearflow:Database"] = database;
        }
        var services = builder.Services;
        services.AddOptions<ClearflowOptions>().BindConfiguration("Clearflow").ValidateOnStart();
        services.AddSingleton<IClearflowStore>(sp => StorageConfiguration.Create(sp.GetRequiredService<IOptions<ClearflowOptions>>().Value.DatabaseOrDefault));
        services.AddSingleton<IMerchantStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IOrderStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IIdempotencyStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IInboxStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<ISystemSettings>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<ISandboxStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IStatusCheckStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IOutboxStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IDailyRunStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IRefundStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IOrderTaskStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<ILedgerStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<INotificationStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IDashboardStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddSingleton<IGatewayCredentialStore>(sp => sp.GetRequiredService<IClearflowStore>());
        services.AddOptions<SecretKeyRing.SecretOptions>().BindConfiguration("Clearflow:Secrets");
        services.AddSingleton<ISecretBox>(sp => SecretKeyRing.Create(sp.GetRequiredService<IOptions<SecretKeyRing.SecretOptions>>().Value,
            sp.GetRequiredService<IOptions<ClearflowOptions>>().Value.DataDirectory));
        services.AddSingleton<IPublicUrls, PublicUrls>();
        services.AddSingleton<InboxSignal>();
        services.AddSingleton<IInboxSignal>(sp => sp.GetRequiredService<InboxSignal>());
        services.AddSingleton<DemoMerchantContext>();
        services.AddSingleton<SandboxWebhookSignal>();
        services.AddSingleton<NewSandboxOrders>();
        services.AddScoped<CompleteSandboxCheckout>();
        services.AddClearflowApplication();
        services.AddClearflowGateways();
        services.AddHttpClient();
        services.AddHostedService<InboxProcessor>();
        services.AddHostedService<SandboxWebhookSender>();
        services.AddHostedService<IdempotencyKeyPurger>();
        services.AddOptions<PollerOptions>().BindConfiguration("Clearflow:Poller")
            .Validate(o => o.Interval >= TimeSpan.FromMilliseconds(100) && o.BatchSize is > 0 and <= 10_000, "Clearflow:Poller needs Interval >= 100 ms and 1 <= BatchSize <= 10000.")
            .ValidateOnStart();
        services.AddHostedService<StatusPoller>();
        services.AddOptions<EndOfDayOptions>().BindConfiguration("Clearflow:EndOfDay");
        services.AddHostedService<EndOfDayScheduler>();
        services.AddSingleton<PipelineWakeUp>();
        services.AddHostedService<PipelineWorker>();
        services.AddSingleton<Pipeline.StandardWebhookSender>();
        services.AddSingleton<IFulfilmentSender>(sp => sp.GetRequiredService<Pipeline.StandardWebhookSender>());
        services.AddSingleton<Application.Notifications.IWebhookSender>(sp => sp.GetRequiredService<Pipeline.StandardWebhookSender>());
        services.AddOptions<Application.Notifications.NotificationOptions>().BindConfiguration("Clearflow:Notifications");
        services.AddHttpClient(Pipeline.StandardWebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => Notifications.GuardedConnections.Handler(
                sp.GetRequiredService<IOptions<Application.Notifications.NotificationOptions>>().Value));
        services.AddSingleton<Application.Notifications.IHostResolver, Notifications.DnsHostResolver>();
        services.AddOptions<Notifications.SmtpOptions>().BindConfiguration("Clearflow:Smtp");
        services.AddSingleton<Application.Notifications.IEmailSender, Notifications.SmtpEmailSender>();
        services.AddOptions<Notifications.TextMessageOptions>().BindConfiguration("Clearflow:TextMessages");
        services.AddSingleton<Application.Notifications.ITextMessageSender, Notifications.HttpTextMessageSender>();
        services.AddSingleton<NotificationWakeUp>();
        services.AddHostedService<NotificationWorker>();
        services.AddSingleton<LiveStatus.OrderStatusFeed>();
        services.AddHostedService<LiveStatus.OrderStatusRelay>();

        services.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddExceptionHandler<GlobalExceptionHandler>();
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyAuthentication.MerchantPolicy, p => p.RequireClaim(ApiKeyAuthentication.MerchantIdClaim))
            .AddPolicy(ApiKeyAuthentication.OrderReaderPolicy, p => p.RequireAssertion(c =>
                c.User.HasClaim(x => x.Type is ApiKeyAuthentication.MerchantIdClaim or ApiKeyAuthentication.ClientSecretClaim)))
            .AddPolicy(ApiKeyAuthentication.CustomerPolicy, p => p.RequireClaim(ApiKeyAuthentication.CustomerIdClaim).RequireClaim(ApiKeyAuthentication.CustomerMerchantClaim));
        services.AddDashboardAuthentication();
        services.AddSingleton<Application.Dashboard.IPasswordHashing, IdentityPasswordHashing>();
        // The application part is named explicitly: when a test process hosts Clearflow, the entry assembly is not this one.
        services.AddRazorPages(o => o.RootDirectory = "/Dashboard/Pages").AddApplicationPart(typeof(ClearflowHost).Assembly);
        services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecurityTransformer>().AddOperationTransformer<RequestBodyDocTransformer>());

        // Last, so tests and embedders can override configuration and replace services.
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseServerTiming(app.Configuration);
        app.UseRequestPrecedence();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapOpenApi();
        app.MapScalarApiReference("/docs", o => o.WithTitle("Clearflow API"));
        app.MapOrdersApi();
        app.MapHistoryApi();
        app.MapMerchantGatewaysApi();
        app.MapMerchantApi();
        app.MapRefundsApi();
        app.MapNotificationsApi();
        app.MapOrderEventsApi();
        app.MapGatewaysApi();
        app.MapSandboxSite();
        app.MapDemoShop();
        app.MapRazorPages();
        app.MapDashboardEndpoints();
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).ExcludeFromDescription().AllowAnonymous();
        return app;
    }
}
