using Clearflow.Domain.Orders;

namespace Clearflow.Application.Abstractions;

/// <summary>
/// A gateway connector. Every gateway (sandbox, Razorpay, Stripe, ...) is reached only through
/// this, so the pipeline never knows which one it talks to.
/// </summary>
public interface IPaymentGateway
{
    /// <summary>The name used in the API (<c>gateway</c>) and in webhook URLs.</summary>
    string Name { get; }

    /// <summary>
    /// Creates the payment at the gateway. <see cref="CreatePaymentRequest.IdempotencyKey"/> is derived
    /// from Clearflow's ids, so a retry after a crash finds the gateway order made before.
    /// </summary>
    /// <exception cref="GatewayUnavailableException">timeout, connection error or 5xx: the outcome is unknown.</exception>
    Task<GatewayPayment> CreatePaymentAsync(CreatePaymentRequest request, CancellationToken cancellationToken);

    /// <summary>Asks the gateway where the payment stands.</summary>
    /// <exception cref="GatewayUnavailableException">the gateway could not be asked.</exception>
    Task<GatewayObservation> GetStatusAsync(string gatewayReference, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the gateway to refund. <see cref="CreateRefundRequest.IdempotencyKey"/> is Clearflow's refund id, so
    /// asking again after a timeout returns the refund made the first time instead of a second one.
    /// </summary>
    /// <exception cref="GatewayUnavailableException">the outcome is unknown: ask again with the same key.</exception>
    /// <exception cref="GatewayRejectedException">the gateway refused (nothing to refund, too much, ...).</exception>
    Task<GatewayRefund> CreateRefundAsync(CreateRefundRequest request, CancellationToken cancellationToken);

    /// <exception cref="GatewayUnavailableException">the gateway could not be asked.</exception>
    Task<GatewayRefund> GetRefundAsync(string refundReference, CancellationToken cancellationToken);

    /// <summary>Checks the signature on the raw bytes and reads the event. Never throws for bad input.</summary>
    Task<WebhookParseResult> ParseWebhookAsync(IReadOnlyDictionary<string, string> headers, byte[] rawBody, DateTimeOffset receivedAt, CancellationToken cancellationToken);

    /// <summary>Checks a client callback (return URL). Its claims are only a hint to fetch the status.</summary>
    Task<CallbackParseResult> ParseCallbackAsync(IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken);
}

public sealed record CreatePaymentRequest(
    string OrderId,
    long Amount,
    string Currency,
    string ReturnUrl,
    string NotifyUrl,
    string IdempotencyKey)
{
    /// <summary>The customer as the merchant gave them; some gateways require a phone or email.</summary>
    public CustomerRecord? Customer { get; init; }
}

public sealed record CreateRefundRequest(string PaymentReference, long Amount, string Currency, string IdempotencyKey);

/// <param name="Status">"pending", "succeeded" or "failed"</param>
public sealed record GatewayRefund(string Reference, string Status, string? FailureReason = null);

/// <summary>The gateway's reference and what the customer's app needs to open its checkout.</summary>
public sealed record GatewayPayment(string GatewayReference, IReadOnlyDictionary<string, string> Checkout);

public abstract record WebhookParseResult
{
    private WebhookParseResult() { }

    public sealed record Accepted(string EventId, string EventType, string GatewayReference, string? MerchantReference, GatewayObservation Observation) : WebhookParseResult;

    /// <summary>Missing, wrong or stale signature: not from the gateway as far as we can tell.</summary>
    public sealed record Unauthentic(string Reason) : WebhookParseResult;

    /// <summary>Authentic, but about nothing Clearflow acts on (a refund or charge event, say): acknowledged, not stored.</summary>
    public sealed record Irrelevant(string EventId, string EventType) : WebhookParseResult;

    /// <summary>Signed correctly but not readable.</summary>
    public sealed record Malformed(string Reason) : WebhookParseResult;
}

public abstract record CallbackParseResult
{
    private CallbackParseResult() { }

    public sealed record Authentic(string GatewayReference, string ClaimedStatus) : CallbackParseResult;

    public sealed record Rejected(string Reason) : CallbackParseResult;
}

/// <summary>The gateway could not be asked (timeout, connection error, 5xx). Never a failure of the payment.</summary>
public sealed class GatewayUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The gateway refused the request itself (4xx): retrying the same request will not help.</summary>
public sealed class GatewayRejectedException(string message, string? gateway = null, string? code = null, int? statusCode = null) : Exception(message)
{
    /// <summary>Which gateway refused, for a problem detail that names it.</summary>
    public string? Gateway { get; } = gateway;

    /// <summary>The gateway's own error code (<c>amount_too_large</c>, <c>BAD_REQUEST_ERROR</c>, ...).</summary>
    public string? Code { get; } = code;

    public int? StatusCode { get; } = statusCode;
}

/// <summary>Finds the connector for a gateway name.</summary>
public interface IGatewayRegistry
{
    /// <summary>A gateway that needs no merchant credentials (the sandbox); null for the others.</summary>
    IPaymentGateway? Find(string name);

    /// <summary>Every gateway name: credential-free ones and connectors.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>A connector that needs merchant credentials, by name.</summary>
    IGatewayConnector? FindConnector(string name);

    /// <summary>
    /// The gateway as this merchant uses it: the credential-free gateway itself, or the connector bound to the
    /// merchant's decrypted credentials. Null when the name is unknown or the merchant has not set credentials.
    /// </summary>
    Task<IPaymentGateway?> ResolveAsync(string merchantId, string name, CancellationToken cancellationToken);
}

/// <summary>Where this Clearflow installation is reachable, for the URLs handed to gateways.</summary>
public interface IPublicUrls
{
    Uri BaseUri { get; }
}

/// <summary>Wakes the inbox processor when a new event was stored, so nobody waits for its timer.</summary>
public interface IInboxSignal
{
    /// <summary>An event stored due now: the processor claims it.</summary>
    void Notify(string inboxEventId);

    /// <summary>
    /// An event stored already leased to this node, with its claim's reads (ADR 23): the processor goes on from there. If the
    /// processor's queue is full, the event waits for its lease to end and the sweep takes it.
    /// </summary>
    void NotifyLeased(LeasedInboxEvent leased);
}
