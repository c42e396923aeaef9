using Clearflow.Application.Abstractions;
using Clearflow.Gateways.Sandbox;
using Microsoft.Extensions.DependencyInjection;

namespace Clearflow.Gateways;

public static class ServiceCollectionExtensions
{
    public static IServiceCollection AddClearflowGateways(this IServiceCollection services)
    {
        services.AddOptions<SandboxOptions>().BindConfiguration("Clearflow:Sandbox");
        services.AddSingleton<SandboxAccount>();
        services.AddHttpClient<SandboxGateway>();
        services.AddTransient<IPaymentGateway>(sp => sp.GetRequiredService<SandboxGateway>());
        services.AddOptions<Stripe.StripeOptions>().BindConfiguration("Clearflow:Gateways:Stripe");
        services.AddHttpClient(Stripe.StripeConnector.HttpClientName).AddGatewayRetries();
        services.AddSingleton<IGatewayConnector, Stripe.StripeConnector>();
        services.AddOptions<Razorpay.RazorpayOptions>().BindConfiguration("Clearflow:Gateways:Razorpay");
        services.AddHttpClient(Razorpay.RazorpayConnector.HttpClientName).AddGatewayRetries();
        services.AddSingleton<IGatewayConnector, Razorpay.RazorpayConnector>();
        services.AddOptions<Cashfree.CashfreeOptions>().BindConfiguration("Clearflow:Gateways:Cashfree");
        services.AddHttpClient(Cashfree.CashfreeConnector.HttpClientName).AddGatewayRetries();
        services.AddSingleton<IGatewayConnector, Cashfree.CashfreeConnector>();
        services.AddOptions<PayU.PayUOptions>().BindConfiguration("Clearflow:Gateways:PayU");
        services.AddHttpClient(PayU.PayUConnector.HttpClientName).AddGatewayRetries();
        services.AddSingleton<IGatewayConnector, PayU.PayUConnector>();
        services.AddTransient<IGatewayRegistry, GatewayRegistry>();
        return services;
    }
}
