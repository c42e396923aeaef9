using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;
using Clearflow.Domain.Pipeline;

namespace Clearflow.Application.Pipeline;

/// <summary>
/// The fulfil step: asks the merchant to deliver a paid order, by a signed HTTP request or an in-process
/// handler. 2xx: fulfilled. 4xx: refused for good. 5xx or no answer: retried with backoff and jitter up
/// to the merchant's limit. Refused or out of attempts, the customer is refunded (a compensate task in
/// the same transaction). The request id is the task id, the same on every retry, so the merchant can
/// deliver once even when an answer was lost.
/// </summary>
public sealed class FulfilOrder(IClearflowStore store, IFulfilmentSender sender, IServiceProvider services, IPipelineFaults faults, IdGenerator ids, TimeProvider clock)
{
    /// <param name="claimRead">the task's order and merchant as its claim read them, when that was under a second ago (ADR 21); otherwise read here</param>
    public async Task<string> HandleAsync(OrderTaskRecord task, (OrderRecord Order, MerchantRecord Merchant)? claimRead, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        // The merchant never from the 2 s cache: the fulfilment mode, URL and secret decide where paid order data goes
        // (ADR 12). The claim's read, at most a second old (ADR 21), or read now.
        var (order, merchant) = claimRead ?? (await store.GetOrderWithMerchantAsync(task.OrderId, cancellationToken))!.Value;
        var settings = MerchantSettings.Parse(merchant.SettingsJson).Fulfilment;
        var started = clock.GetUtcNow();

        if (settings.Mode == "none")
        {
            // Recorded as a step only: a timeline line for "nothing to do" on every order is noise.
            await store.CompleteOrderTaskAsync(task, "done", clock.GetUtcNow(), null, null, [], [],
                new StepRecord(order.Id, "fulfil", task.Attempts, started, clock.GetUtcNow(), "skipped", "no fulfilment configured"), cancellationToken);
            return "skipped";
        }

        var request = new FulfilmentRequest(task.Id, order.Id, order.MerchantId, order.Receipt, order.AmountPaid, order.Currency, order.Customer.Id,
            Json.Deserialize<Dictionary<string, string>>(order.MetadataJson));
        FulfilmentOutcome outcome;
        string? error = null;
        if (settings.Mode == "in_process")
        {
            var handler = services.GetService(typeof(IFulfilmentHandler)) as IFulfilmentHandler;
            if (handler is null)
            {
                (outcome, error) = (FulfilmentOutcome.Permanent, "fulfilment mode is in_process but no IFulfilmentHandler is registered");
            }
            else
            {
                try
                {
                    outcome = await handler.FulfilAsync(request, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    (outcome, error) = (FulfilmentOutcome.Transient, ex.Message);
                }
            }
        }
        else
        {
            var payload = Json.Serialize(new
            {
                type = "order.fulfil", fulfilment_id = task.Id, order_id = order.Id, receipt = order.Receipt, amount = order.AmountPaid,
                currency = order.Currency, customer_id = order.Customer.Id, metadata = request.Metadata,
            });
            var (status, sendError) = await sender.SendAsync(settings.Url!, settings.SigningSecret!, settings.Timeout, task.Id, payload, cancellationToken);
            outcome = FulfilmentOutcomes.Classify(status);
            error = status is null ? sendError : outcome == FulfilmentOutcome.Fulfilled ? null : $"merchant endpoint answered {status}";
        }
        faults.At("fulfil.sent");

        var now = clock.GetUtcNow();
        var step = new StepRecord(order.Id, "fulfil", task.Attempts, started, now, outcome.ToString().ToLowerInvariant(), error);
        switch (outcome)
        {
            case FulfilmentOutcome.Fulfilled:
                await store.CompleteOrderTaskAsync(task, "done", now, null,
                    new TimelineEntry(now, "fulfilment.succeeded", $"Merchant fulfilled the order (attempt {task.Attempts})."), [], [OrderNotices.Fulfilled(order, now)], step, cancellationToken);
                faults.At("fulfil.recorded");
                return "fulfilled";
            case FulfilmentOutcome.Transient when task.Attempts < settings.MaxAttempts:
                await store.RecordStepAsync(step, cancellationToken);
                var retryAt = now + Backoff.Delay(task.Attempts, Random.Shared.NextDouble());
                await store.RetryOrderTaskAsync(task.Id, retryAt, error ?? "transient failure", cancellationToken);
                await store.AppendTimelineAsync(order.Id, new TimelineEntry(now, "fulfilment.retrying",
                    $"Fulfilment attempt {task.Attempts} of {settings.MaxAttempts} failed ({error}); retrying at {retryAt:O}."), cancellationToken);
                return "retrying";
            default:
                var reason = outcome == FulfilmentOutcome.Permanent ? error ?? "refused" : $"{settings.MaxAttempts} attempts failed, last: {error}";
                var compensate = new OrderTaskRecord(ids.New("tsk_"), order.Id, OrderTaskRecord.Compensate, "pending", "fulfilment failed: " + reason, 0, now, null, now, null);
                await store.CompleteOrderTaskAsync(task, "failed", now, reason,
                    new TimelineEntry(now, "fulfilment.failed", $"Fulfilment failed for good ({reason}): the customer will be refunded."),
                    [compensate], [OrderNotices.FulfilmentFailed(order, reason, now)], step, cancellationToken);
                return "failed";
        }
    }
}
