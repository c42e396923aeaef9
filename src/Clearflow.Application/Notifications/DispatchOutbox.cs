using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;

namespace Clearflow.Application.Notifications;

/// <summary>
/// Turns committed outbox messages into deliveries: one per subscribed webhook endpoint for merchant events,
/// one email to the customer for customer messages, one email per operator address for operator notices.
/// Marking a batch of messages and inserting their deliveries is one transaction under unique keys, so each
/// recipient gets each message once however many nodes dispatch.
/// <para>
/// The deliveries are inserted already leased to this node (first attempt counted, due when the lease ends), and
/// handed to <see cref="DeliverNotifications.DeliverClaimedAsync"/> with the messages and endpoints read here: claiming
/// them again would rewrite each row and every one of its table's indexes for nothing (docs/benchmarks.md, sixth
/// round). A node that stops before sending leaves them to whichever node claims them when the lease ends.
/// </para>
/// </summary>
public sealed class DispatchOutbox(IClearflowStore store, IEmailSender email, ITextMessageSender texts, IdGenerator ids, TimeProvider clock)
{
    /// <summary>A dispatch round: how many messages it read, and the deliveries it created and leased, with what sending them needs.</summary>
    public sealed record Round(int MessagesRead, IReadOnlyList<DeliveryRecord> Claimed, IReadOnlyList<OutboxMessage> Messages,
        IReadOnlyList<WebhookEndpointRecord> Endpoints)
    {
        public static readonly Round Empty = new(0, [], [], []);
    }

    public async Task<Round> HandleAsync(int batchSize, CancellationToken cancellationToken)
    {
        var messages = await store.ListUndispatchedOutboxAsync(batchSize, cancellationToken);
        if (messages.Count == 0)
        {
            return Round.Empty;
        }
        // A batch is mostly one merchant's messages: read its settings and endpoints once per batch, not per message.
        var settingsOf = new Dictionary<string, MerchantSettings>(StringComparer.Ordinal);
        var endpointsOf = new Dictionary<string, IReadOnlyList<WebhookEndpointRecord>>(StringComparer.Ordinal);
        var fanOuts = new List<OutboxFanOut>(messages.Count);
        var leased = 0;
        var now = clock.GetUtcNow();
        foreach (var message in messages)
        {
            if (!settingsOf.TryGetValue(message.MerchantId, out var settings))
            {
                var merchant = await store.GetMerchantAsync(message.MerchantId, cancellationToken);
                settingsOf[message.MerchantId] = settings = merchant is null ? new MerchantSettings() : MerchantSettings.Parse(merchant.SettingsJson);
            }
            var deliveries = new List<DeliveryRecord>();
            // At most a batch is leased here (first attempt counted, due when the lease ends), as a claim would take; the
            // rest are due at once, for the claim.
            DeliveryRecord To(string channel, string target)
            {
                var leasedHere = leased++ < batchSize;
                return new(ids.New("dlv_"), message.Id, message.MerchantId, message.OrderId, message.Topic, channel, target, "pending",
                    leasedHere ? 1 : 0, leasedHere ? now + DeliverNotifications.Lease : now, null, null, now, null);
            }

            if (EventTypes.IsMerchantEvent(message.Topic))
            {
                if (!endpointsOf.TryGetValue(message.MerchantId, out var endpoints))
                {
                    endpointsOf[message.MerchantId] = endpoints = await store.ListWebhookEndpointsAsync(message.MerchantId, cancellationToken);
                }
                foreach (var endpoint in endpoints)
                {
                    if (endpoint.Status == "enabled" && endpoint.Subscribes(message.Topic))
                    {
                        deliveries.Add(To("webhook", endpoint.Id));
                    }
                }
            }
            else if (message.Topic.StartsWith("customer.", StringComparison.Ordinal))
            {
                var wantsEmail = email.IsConfigured && settings.Notifications.CustomerEmail;
                var wantsText = texts.IsConfigured && settings.Notifications.CustomerText;
                var order = message.OrderId is null || !(wantsEmail || wantsText) ? null : await store.GetOrderAsync(message.OrderId, cancellationToken);
                if (wantsEmail && order?.Customer.Email is not null)
                {
                    deliveries.Add(To("email", "customer"));
                }
                if (wantsText && order?.Customer.Phone is not null)
                {
                    deliveries.Add(To("text", "customer"));
                }
            }
            else if (email.IsConfigured)
            {
                deliveries.AddRange(settings.Notifications.OperatorEmails.Distinct(StringComparer.OrdinalIgnoreCase).Select(address => To("email", address)));
            }
            fanOuts.Add(new OutboxFanOut(message.Id, deliveries));
        }
        // Only the messages this round marked were fanned out here; another node's round took the rest.
        var committed = (await store.CommitFanOutsAsync(fanOuts, now, cancellationToken)).ToHashSet(StringComparer.Ordinal);
        return new Round(messages.Count, [.. fanOuts.Where(f => committed.Contains(f.OutboxId)).SelectMany(f => f.Deliveries).Where(d => d.Attempts == 1)],
            [.. messages.Where(m => committed.Contains(m.Id))], [.. endpointsOf.Values.SelectMany(e => e)]);
    }
}
