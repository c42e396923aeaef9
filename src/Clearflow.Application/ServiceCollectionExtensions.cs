using Clearflow.Application.Checks;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Ledger;
using Clearflow.Application.Pipeline;
using Clearflow.Application.Refunds;
using Clearflow.Application.Merchants;
using Clearflow.Application.Notifications;
using Clearflow.Application.Orders.CreateOrder;
using Clearflow.Application.Orders.GetOrder;
using Clearflow.Application.Payments;
using Clearflow.Application.Reports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Clearflow.Application;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers the use cases. Ports (store, gateways, URLs) are registered by their adapters.</summary>
    public static IServiceCollection AddClearflowApplication(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IdGenerator>();
        services.AddSingleton(sp => new BackgroundAdmission(sp.GetRequiredService<TimeProvider>()));
        services.AddScoped<CreateMerchant>();
        services.AddScoped<IssueApiKey>();
        services.AddScoped<AuthenticateApiKey>();
        services.AddSingleton<KnownApiKeys>();
        services.AddScoped<EnsureDemoMerchant>();
        services.AddScoped<CreateOrder>();
        services.AddScoped<GetOrder>();
        services.AddScoped<Orders.ListOrders.ListOrders>();
        services.AddScoped<Orders.ListOrders.ExportOrders>();
        services.AddSingleton<Customers.CustomerTokens>();
        services.AddScoped<ReceiveWebhook>();
        services.AddScoped<ReceiveCallback>();
        services.AddScoped<ProcessInboxEvent>();
        services.AddScoped<ApplyGatewayObservation>();
        services.AddScoped<GetMerchantSettings>();
        services.AddScoped<UpdateMerchantSettings>();
        services.AddScoped<CheckOrderStatus>();
        services.AddScoped<RunDueStatusChecks>();
        services.AddScoped<RecheckOrder>();
        services.AddScoped<RunEndOfDaySweep>();
        services.AddScoped<RunDueEndOfDaySweeps>();
        services.AddScoped<GetDailyReport>();
        services.TryAddSingleton<IPipelineFaults, NoPipelineFaults>();
        services.AddScoped<FinishRefund>();
        services.AddScoped<SubmitRefund>();
        services.AddScoped<CreateRefund>();
        services.AddScoped<GetRefunds>();
        services.AddScoped<CheckRefundStatus>();
        services.AddScoped<RunDueRefundChecks>();
        services.AddScoped<FulfilOrder>();
        services.AddScoped<CompensateOrder>();
        services.AddScoped<RunOrderTasks>();
        services.AddScoped<VerifyLedger>();
        services.AddScoped<WebhookUrlCheck>();
        services.AddScoped<CreateWebhookEndpoint>();
        services.AddScoped<ManageWebhookEndpoint>();
        services.AddScoped<DeliveryHistory>();
        services.AddScoped<DispatchOutbox>();
        services.AddScoped<DeliverNotifications>();
        services.AddScoped<Merchants.RevokeApiKey>();
        services.AddScoped<Dashboard.CreateDashboardUser>();
        services.AddScoped<Dashboard.SignInDashboardUser>();
        services.AddScoped<Dashboard.AuditedAction>();
        services.AddScoped<Dashboard.RetryFulfilment>();
        services.AddScoped<Dashboard.ResolveReview>();
        services.AddScoped<Dashboard.OperatorActions>();
        services.AddScoped<Dashboard.GetOrderDetail>();
        services.AddScoped<Dashboard.GetOverview>();
        services.AddScoped<Gateways.SetGatewayCredentials>();
        services.AddScoped<Gateways.ListGateways>();
        services.AddScoped<Gateways.TestGatewayConnection>();
        services.AddScoped<Gateways.ResealGatewayCredentials>();
        services.AddSingleton<Gateways.GatewayHealth>();
        services.AddScoped<Gateways.GetSettlements>();
        return services;
    }
}
