using System.Collections.Concurrent;
using System.Diagnostics;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;
using Clearflow.Domain.Money;
using Clearflow.Domain.Notifications;

namespace Clearflow.Application.Notifications;

/// <summary>
/// Sends due deliveries and records every attempt (status, latency, response excerpt) on the delivery and
/// on the order's timeline. Failures are retried on <see cref="DeliverySchedule"/>; an endpoint failing for
/// three days is disabled and the merchant's operators are told. The delivery id is the <c>webhook-id</c>,
/// the same on every retry and replay, so receivers can drop repeats.
/// </summary>
public sealed class DeliverNotifications(IClearflowStore store, IWebhookSender webhooks, IEmailSender email, ITextMessageSender texts, IPipelineFaults faults, BackgroundAdmission admission, IdGenerator ids, TimeProvider clock,
    Microsoft.Extensions.Options.IOptions<NotificationOptions> options)
{
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    /// <summary>What a send may take besides the receiver's answer (recording it) before its lease must still hold.</summary>
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(10);

    /// <summary>Claims the due deliveries (new ones another node left, retries, replays) and sends them.</summary>
    public async Task<int> HandleAsync(int batchSize, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = await store.ClaimDueDeliveriesAsync(now, now + Lease, batchSize, cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }
        // The round's messages and endpoints in one read each, not one per delivery.
        var messages = await store.GetOutboxMessagesAsync([.. due.Select(d => d.OutboxId).Distinct()], cancellationToken);
        var endpoints = await store.GetWebhookEndpointsAsync([.. due.Where(d => d.Channel == "webhook").Select(d => d.Target).Distinct()], cancellationToken);
        await SendAllAsync(due, messages, endpoints, cancellationToken);
        return due.Count;
    }

    /// <summary>Sends the deliveries a dispatch round created already leased to this node, with the messages and endpoints it read.</summary>
    public Task DeliverClaimedAsync(DispatchOutbox.Round round, CancellationToken cancellationToken) =>
        round.Claimed.Count == 0 ? Task.CompletedTask : SendAllAsync(round.Claimed, round.Messages, round.Endpoints, cancellationToken);

    private async Task SendAllAsync(IReadOnlyList<DeliveryRecord> deliveries, IReadOnlyList<OutboxMessage> messages, IReadOnlyList<WebhookEndpointRecord> endpoints,
        CancellationToken cancellationToken)
    {
        var messageById = messages.ToDictionary(m => m.Id);
        var round = new RoundEndpoints(store, clock, endpoints);
        // The round's attempt records, written together (ADR 20): a round's sends end close together.
        var records = new GroupCommit<DeliveryResult>(store.RecordDeliveryAttemptsAsync, cancellationToken);
        // Deliveries are independent (each has its own row and attempt log), and most of their time is waiting on the receiver.
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (delivery, ct) =>
            {
                using var turn = await admission.WaitTurnAsync(delivery.CreatedAt, ct);
                // A send must end within its lease, or another node may take the delivery and send it too. One that would
                // not (a long round, a slow receiver before it) is left for the claim once its lease ends.
                if (clock.GetUtcNow() > delivery.AvailableAt - options.Value.WebhookTimeout - LeaseMargin)
                {
                    return;
                }
                await DeliverAsync(delivery,
                    messageById.GetValueOrDefault(delivery.OutboxId) ?? throw new InvalidOperationException($"Delivery {delivery.Id}'s outbox message {delivery.OutboxId} does not exist."),
                    round, records, ct);
            });
    }

    private async Task DeliverAsync(DeliveryRecord delivery, OutboxMessage message, RoundEndpoints endpoints, GroupCommit<DeliveryResult> records, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        int? statusCode = null;
        string? excerpt = null, error = null;
        WebhookEndpointRecord? endpoint = null;
        if (delivery.Channel == "webhook")
        {
            endpoint = await endpoints.GetAsync(delivery.Target, cancellationToken);
            if (endpoint is not { Status: "enabled" })
            {
                await RecordAsync(records, delivery, null, 0, null, $"endpoint is {endpoint?.Status ?? "gone"}", abandon: true, takenByEndpointId: null, cancellationToken);
                return;
            }
            var secrets = new List<string> { endpoint.Secret };
            if (endpoint.PreviousSecret is not null && endpoint.PreviousSecretExpiresAt > clock.GetUtcNow())
            {
                secrets.Add(endpoint.PreviousSecret);
            }
            var body = $$"""{"type":{{System.Text.Json.JsonSerializer.Serialize(message.Topic)}},"timestamp":"{{message.CreatedAt:O}}","data":{{message.PayloadJson}}}""";
            (statusCode, excerpt, error) = await webhooks.SendAsync(new Uri(endpoint.Url), secrets, delivery.Id, body, cancellationToken);
        }
        else
        {
            error = await SendMessageAsync(delivery, message, cancellationToken);
        }
        faults.At("notify.sent");

        var succeeded = error is null && (delivery.Channel != "webhook" || statusCode is >= 200 and < 300);
        error ??= succeeded ? null : $"answered {statusCode}";
        var status = await RecordAsync(records, delivery, statusCode, watch.ElapsedMilliseconds, excerpt, error, abandon: false,
            takenByEndpointId: succeeded ? endpoint?.Id : null, cancellationToken);
        if (endpoint is not null && !succeeded)
        {
            var now = clock.GetUtcNow();
            var since = await store.RecordEndpointFailureAsync(endpoint.Id, now, cancellationToken);
            // Disabled when nothing got through for 3 days, or when a delivery ran through its whole schedule
            // without the endpoint taking anything since that delivery began.
            var failingLongEnough = now - DeliverySchedule.DisableEndpointAfter;
            var threshold = status == "abandoned" && delivery.CreatedAt > failingLongEnough ? delivery.CreatedAt : failingLongEnough;
            if (since <= threshold)
            {
                var reason = $"no delivery succeeded since {since:O} (last: {error})";
                if (await store.DisableFailingEndpointAsync(endpoint.Id, threshold, now, reason,
                    new OutboxMessage(ids.New("obx_"), endpoint.MerchantId, null, "operator.webhook_endpoint_disabled", $"operator.webhook_endpoint_disabled:{endpoint.Id}:{now.ToUnixTimeMilliseconds()}",
                        Json.Serialize(new { endpoint_id = endpoint.Id, url = endpoint.Url, reason, summary = $"Webhook endpoint {endpoint.Url} was disabled: {reason}." }), now),
                    cancellationToken))
                {
                    endpoints.Disabled(endpoint);
                }
            }
        }
    }

    /// <summary>An email or a text message from the topic's template.</summary>
    private async Task<string?> SendMessageAsync(DeliveryRecord delivery, OutboxMessage message, CancellationToken cancellationToken)
    {
        var isText = delivery.Channel == "text";
        if (isText ? !texts.IsConfigured : !email.IsConfigured)
        {
            return isText ? "no text message provider is configured" : "no SMTP server is configured";
        }
        var merchant = await store.GetMerchantAsync(delivery.MerchantId, cancellationToken);
        var settings = merchant is null ? new MerchantSettings() : MerchantSettings.Parse(merchant.SettingsJson);
        var order = delivery.OrderId is null ? null : await store.GetOrderAsync(delivery.OrderId, cancellationToken);
        var to = delivery.Target != "customer" ? delivery.Target : isText ? order?.Customer.Phone : order?.Customer.Email;
        if (to is null)
        {
            return "no address to send to";
        }
        var values = EmailTemplates.ValuesFrom(message.PayloadJson);
        if (values.TryGetValue("amount", out var minor) && values.TryGetValue("currency", out var code) && long.TryParse(minor, out var units) && Currency.TryParse(code, out var currency))
        {
            values["amount"] = MoneyFormat.ToMajorUnits(units, currency);
        }
        values["merchant_name"] = merchant?.Name ?? "";
        values["customer_name"] = order?.Customer.Name ?? "customer";
        values["topic_title"] = message.Topic.Replace("operator.", "", StringComparison.Ordinal).Replace('_', ' ');
        values.TryAdd("summary", values["topic_title"]);
        var rendered = EmailTemplates.Render(EmailTemplates.For(message.Topic, settings.Notifications.Templates), values);
        if (isText)
        {
            return await texts.SendAsync(to, rendered.Text.Length > 480 ? rendered.Text[..480] : rendered.Text, cancellationToken);
        }
        try
        {
            await email.SendAsync(to, rendered.Subject, rendered.Text, rendered.Html, cancellationToken);
            return null;
        }
        catch (EmailNotSentException ex)
        {
            return ex.Message;
        }
    }

    /// <returns>The delivery's status after this attempt: delivered, pending or abandoned.</returns>
    /// <param name="takenByEndpointId">the webhook endpoint that took the delivery (its failure streak ends with this record)</param>
    private async Task<string> RecordAsync(GroupCommit<DeliveryResult> records, DeliveryRecord delivery, int? statusCode, long latencyMs, string? excerpt, string? error, bool abandon,
        string? takenByEndpointId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var next = error is null || abandon ? null : DeliverySchedule.NextAttempt(delivery.Attempts, delivery.CreatedAt, now);
        var status = error is null ? "delivered" : next is null ? "abandoned" : "pending";
        var recipient = delivery.Channel == "webhook" ? "webhook " + delivery.Target : delivery.Target == "customer" ? delivery.Channel + " to the customer" : "email to an operator";
        var message = error is null
            ? $"{delivery.Topic}: {recipient} delivered{(statusCode is null ? "" : $" ({statusCode})")}, attempt {delivery.Attempts}."
            : $"{delivery.Topic}: {recipient} failed ({error}), attempt {delivery.Attempts}; " + (next is null ? "giving up (replay by hand)." : $"next at {next:O}.");
        await records.WriteAsync(new DeliveryResult(
            new DeliveryAttemptRecord(delivery.Id, delivery.Attempts, now, statusCode, latencyMs, excerpt, error), delivery.OrderId, status, next,
            new TimelineEntry(now, error is null ? "notification.delivered" : "notification.failed", message,
                Json.Serialize(new { delivery_id = delivery.Id, channel = delivery.Channel, topic = delivery.Topic, status_code = statusCode, attempt = delivery.Attempts })))
        {
            TakenByEndpointId = takenByEndpointId,
        });
        return status;
    }

    /// <summary>
    /// The round's webhook endpoints, read together when it starts. A round with slow receivers can last minutes, so
    /// an entry older than <see cref="Freshness"/> is read again before a send (a merchant's disable, delete or secret
    /// rotation counts from then on), and an endpoint this round disabled is disabled for the rest of it.
    /// </summary>
    private sealed class RoundEndpoints(IClearflowStore store, TimeProvider clock, IReadOnlyList<WebhookEndpointRecord> read)
    {
        private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);

        private readonly ConcurrentDictionary<string, (WebhookEndpointRecord? Endpoint, DateTimeOffset ReadAt)> _byId =
            new(read.Select(e => KeyValuePair.Create(e.Id, ((WebhookEndpointRecord?)e, clock.GetUtcNow()))), StringComparer.Ordinal);

        public async Task<WebhookEndpointRecord?> GetAsync(string endpointId, CancellationToken cancellationToken)
        {
            var now = clock.GetUtcNow();
            if (_byId.TryGetValue(endpointId, out var entry) && now - entry.ReadAt < Freshness)
            {
                return entry.Endpoint;
            }
            var endpoint = await store.GetWebhookEndpointAsync(endpointId, cancellationToken);
            _byId[endpointId] = (endpoint, now);
            return endpoint;
        }

        public void Disabled(WebhookEndpointRecord endpoint) => _byId[endpoint.Id] = (endpoint with { Status = "disabled" }, clock.GetUtcNow());
    }
}
