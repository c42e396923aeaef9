using Clearflow.Application.Abstractions;
using Clearflow.Gateways.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Clearflow.Server.Tests;

/// <summary>
/// Controls the gateway boundary for tests that need a request to be inside the gateway call at a
/// known moment, or the gateway to be down once. Everything else passes through to the real sandbox
/// connector (which talks HTTP to the real sandbox site).
/// </summary>
public sealed class GatewayGate
{
    public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Release { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public bool Hold { get; set; }
    public int FailCreates { get; set; }

    public void Reset()
    {
        Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static void Install(IServiceCollection services, GatewayGate gate)
    {
        services.RemoveAll<IPaymentGateway>();
        services.AddSingleton(gate);
        services.AddTransient<IPaymentGateway>(sp => new GatedGateway(sp.GetRequiredService<SandboxGateway>(), gate));
    }

    private sealed class GatedGateway(IPaymentGateway inner, GatewayGate gate) : IPaymentGateway
    {
        public string Name => inner.Name;

        public async Task<GatewayPayment> CreatePaymentAsync(CreatePaymentRequest request, CancellationToken cancellationToken)
        {
            if (gate.FailCreates > 0)
            {
                gate.FailCreates--;
                throw new GatewayUnavailableException("simulated timeout");
            }
            if (gate.Hold)
            {
                gate.Entered.TrySetResult();
                await gate.Release.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }
            return await inner.CreatePaymentAsync(request, cancellationToken);
        }

        public Task<Domain.Orders.GatewayObservation> GetStatusAsync(string gatewayReference, CancellationToken cancellationToken) =>
            inner.GetStatusAsync(gatewayReference, cancellationToken);

        public Task<GatewayRefund> CreateRefundAsync(CreateRefundRequest request, CancellationToken cancellationToken) =>
            inner.CreateRefundAsync(request, cancellationToken);

        public Task<GatewayRefund> GetRefundAsync(string refundReference, CancellationToken cancellationToken) =>
            inner.GetRefundAsync(refundReference, cancellationToken);

        public Task<WebhookParseResult> ParseWebhookAsync(IReadOnlyDictionary<string, string> headers, byte[] rawBody, DateTimeOffset receivedAt, CancellationToken cancellationToken) =>
            inner.ParseWebhookAsync(headers, rawBody, receivedAt, cancellationToken);

        public Task<CallbackParseResult> ParseCallbackAsync(IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken) =>
            inner.ParseCallbackAsync(query, cancellationToken);
    }
}
