using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Payments;

/// <summary>
/// <c>POST /v1/gateways/{gateway}/webhooks</c>: verifies the signature on the raw bytes, stores the
/// event in the inbox (deduplicated by the gateway's event id) and only then acknowledges. Processing
/// happens after the reply, so a slow pipeline never makes the gateway time out and retry.
/// </summary>
public sealed class ReceiveWebhook(IGatewayRegistry gateways, IInboxStore inbox, IInboxSignal signal, IdGenerator ids, TimeProvider clock)
{
    public enum Outcome
    {
        Stored,
        Duplicate,
    }

    public async Task<Result<Outcome>> HandleAsync(string gatewayName, IReadOnlyDictionary<string, string> headers, byte[] rawBody, CancellationToken cancellationToken)
    {
        var gateway = gateways.Find(gatewayName);
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
        }

        var accepted = (WebhookParseResult.Accepted)parsed;
        var inboxEventId = ids.New(IdPrefixes.InboxEvent);
        var stored = await inbox.InsertInboxEventAsync(new InboxEventRecord(
            Id: inboxEventId,
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
            Outcome: null), cancellationToken);
        if (!stored)
        {
            return Outcome.Duplicate;
        }
        // Committed: the processor may take it now (on its own thread, so the gateway gets its 200 at once).
        signal.Notify(inboxEventId);
        return Outcome.Stored;
    }
}
