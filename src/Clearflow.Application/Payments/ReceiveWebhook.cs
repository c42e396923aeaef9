using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Payments;

/// <summary>
/// <c>POST /v1/gateways/{gateway}/webhooks</c>: verifies the signature on the raw bytes, stores the
/// event in the inbox (deduplicated by the gateway's event id) and only then acknowledges. Processing
/// happens after the reply, so a slow pipeline never makes the gateway time out and retry.
/// </summary>
public sealed class ReceiveWebhook(IGatewayRegistry gateways, IInboxStore inbox, ProcessInboxEvent process, IInboxSignal signal, IdGenerator ids, TimeProvider clock)
{
    public enum Outcome
    {
        Stored,
        Duplicate,
        Ignored,
    }

    /// <param name="merchantId">From the webhook URL; required for gateways with per-merchant credentials (their secrets verify the signature).</param>
    public async Task<Result<Outcome>> HandleAsync(string gatewayName, string? merchantId, IReadOnlyDictionary<string, string> headers, byte[] rawBody,
        CancellationToken cancellationToken)
    {
        var gateway = gateways.Find(gatewayName);
        if (gateway is null && gateways.FindConnector(gatewayName) is not null)
        {
            if (merchantId is null)
            {
                return new Problem(404, "webhook-url-incomplete", "This gateway's webhooks need the merchant in the URL.",
                    $"Configure the webhook URL as /v1/gateways/{gatewayName}/webhooks/{{merchant_id}}.");
            }
            gateway = await gateways.ResolveAsync(merchantId, gatewayName, cancellationToken);
            if (gateway is null)
            {
                return new Problem(404, "not-found", "Unknown merchant or gateway.", $"No merchant '{merchantId}' with {gatewayName} credentials exists.");
            }
        }
        if (gateway is null)
        {
            return Problem.NotFound("Gateway", gatewayName);
        }
        var receivedAt = clock.GetUtcNow();
        var parsed = await gateway.ParseWebhookAsync(headers, rawBody, receivedAt, cancellationToken);
        switch (parsed)
        {
            case WebhookParseResult.Unauthentic u:
                return new Problem(401, "webhook-signature-invalid", "The webhook signature could not be verified.", u.Reason);
            case WebhookParseResult.Malformed m:
                return Problem.BadRequest("webhook-malformed", m.Reason);
            case WebhookParseResult.Irrelevant:
                // Refund and charge events: refunds are followed by their own status checks.
                return Outcome.Ignored;
        }

        var accepted = (WebhookParseResult.Accepted)parsed;
        if (merchantId is not null && await inbox.FindAttemptOwnerAsync(gateway.Name, accepted.GatewayReference, cancellationToken) is { } owner && owner != merchantId)
        {
            // Signed with this merchant's secret, about another merchant's payment: never let one merchant move another's order.
            return new Problem(404, "not-found", "Unknown payment for this merchant.",
                $"No {gateway.Name} payment '{accepted.GatewayReference}' belongs to merchant '{merchantId}'.");
        }
        // Stored leased to this node, read with its attempt, order and merchant in the same command (ADR 23): the processor
        // goes on from that read without claiming the event again.
        var stored = await process.StoreLeasedAsync(new InboxEventRecord(
            Id: ids.New(IdPrefixes.InboxEvent),
            Source: InboxSource.Webhook,
            Gateway: gateway.Name,
            DedupeKey: accepted.EventId,
            GatewayReference: accepted.GatewayReference,
            OrderId: accepted.MerchantReference,
            EventType: accepted.EventType,
            ObservationJson: ObservationJson.Write(accepted.Observation),
            RawBody: rawBody,
            ReceivedAt: receivedAt,
            Attempts: 0,
            ProcessedAt: null,
            Outcome: null) { MerchantId = merchantId }, cancellationToken);
        if (stored is null)
        {
            return Outcome.Duplicate;
        }
        // Committed: the processor takes it now (on its own thread, so the gateway gets its 200 at once).
        signal.NotifyLeased(stored);
        return Outcome.Stored;
    }
}
