using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;

namespace Clearflow.Application.Notifications;

/// <summary>
/// Turns committed outbox messages into deliveries: one per subscribed webhook endpoint for merchant events,
/// one email to the customer for customer messages, one email per operator address for operator notices.
/// Marking the message and inserting its deliveries is one transaction under unique keys, so each
/// recipient gets each message once however many nodes dispatch.
/// </summary>
public sealed class DispatchOutbox(IClearflowStore store, IEmailSender email, ITextMessageSender texts, IdGenerator ids, TimeProvider clock)
{
    public async Task<int> HandleAsync(int batchSize, CancellationToken cancellationToken)
    {
        var messages = await store.ListUndispatchedOutboxAsync(batchSize, cancellationToken);
        foreach (var message in messages)
        {
            var merchant = await store.GetMerchantAsync(message.MerchantId, cancellationToken);
            var settings = merchant is null ? new MerchantSettings() : MerchantSettings.Parse(merchant.SettingsJson);
            var now = clock.GetUtcNow();
            var deliveries = new List<DeliveryRecord>();
            DeliveryRecord To(string channel, string target) =>
                new(ids.New("dlv_"), message.Id, message.MerchantId, message.OrderId, message.Topic, channel, target, "pending", 0, now, null, null, now, null);

            if (EventTypes.IsMerchantEvent(message.Topic))
            {
                foreach (var endpoint in await store.ListWebhookEndpointsAsync(message.MerchantId, cancellationToken))
                {
                    if (endpoint.Status == "enabled" && endpoint.Subscribes(message.Topic))
                    {
                        deliveries.Add(To("webhook", endpoint.Id));
                    }
                }
            }
            else if (message.Topic.StartsWith("customer.", StringComparison.Ordinal))
            {
                var order = message.OrderId is null ? null : await store.GetOrderAsync(message.OrderId, cancellationToken);
                if (email.IsConfigured && settings.Notifications.CustomerEmail && order?.Customer.Email is not null)
                {
                    deliveries.Add(To("email", "customer"));
                }
                if (texts.IsConfigured && settings.Notifications.CustomerText && order?.Customer.Phone is not null)
                {
                    deliveries.Add(To("text", "customer"));
                }
            }
            else if (email.IsConfigured)
            {
                deliveries.AddRange(settings.Notifications.OperatorEmails.Distinct(StringComparer.OrdinalIgnoreCase).Select(address => To("email", address)));
            }
            await store.CommitFanOutAsync(message.Id, deliveries, now, cancellationToken);
        }
        return messages.Count;
    }
}
