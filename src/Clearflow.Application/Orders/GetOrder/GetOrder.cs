using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Orders.GetOrder;

/// <summary>Who reads an order: its merchant (full view) or the customer's app holding the order's client secret.</summary>
public abstract record OrderReader
{
    private OrderReader() { }

    public sealed record Merchant(string MerchantId) : OrderReader;

    public sealed record ClientSecret(string Secret) : OrderReader;
}

/// <summary><c>GET /v1/orders/{id}</c>: status, amounts, attempts and the timeline.</summary>
public sealed class GetOrder(IClearflowStore store)
{
    public sealed record AttemptView(string Id, string Gateway, string GatewayReference, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public sealed record TimelineView(DateTimeOffset At, string Kind, string Message, System.Text.Json.JsonElement? Data);

    public sealed record OrderView(
        string Id, string Object, string Status, string? StatusReason, bool IsFinal, long Amount, string Currency, long AmountPaid, long AmountRefunded,
        string Receipt, string Gateway, CustomerRecord? Customer, IReadOnlyDictionary<string, string>? Metadata,
        IReadOnlyList<AttemptView> Attempts, IReadOnlyList<TimelineView> Timeline, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        /// <summary>Set when the customer's money moved after the order was closed (late success): a refund or acceptance is owed.</summary>
        public DateTimeOffset? CompensationRequiredAt { get; init; }

        /// <summary>When Clearflow will next ask the gateway on its own (null: final, or with an operator).</summary>
        public DateTimeOffset? NextCheckAt { get; init; }

        /// <summary>The gateway's last answer to a status check.</summary>
        public string? LastGatewayStatus { get; init; }

        /// <summary>Every execution of every pipeline step (verify, transition, fulfil, compensate), in order.</summary>
        public IReadOnlyList<StepView>? Steps { get; init; }

        /// <summary>Where fulfilment stands: pending, done, failed (merchant view only).</summary>
        public string? Fulfilment { get; init; }
    }

    public sealed record StepView(string Step, int Attempt, DateTimeOffset StartedAt, DateTimeOffset EndedAt, string Outcome, string? Error);

    public async Task<Result<OrderView>> HandleAsync(string orderId, OrderReader reader, CancellationToken cancellationToken)
    {
        var order = await store.GetOrderAsync(orderId, cancellationToken);
        // Another merchant's order and a missing order answer the same, so ids cannot be probed.
        var visible = order is not null && reader switch
        {
            OrderReader.Merchant m => m.MerchantId == order.MerchantId,
            OrderReader.ClientSecret c => Secrets.FixedTimeEquals(c.Secret, order.ClientSecret),
            _ => false,
        };
        if (!visible)
        {
            return Problem.NotFound("Order", orderId);
        }

        var full = reader is OrderReader.Merchant;
        var attempts = await store.GetAttemptsAsync(orderId, cancellationToken);
        var timeline = await store.GetTimelineAsync(orderId, cancellationToken);
        return new OrderView(
            order!.Id, "order", order.Status.ToWire(), order.StatusReason, OrderStateMachine.IsFinal(order.Status),
            order.Amount, order.Currency, order.AmountPaid, order.AmountRefunded, order.Receipt, order.Gateway,
            full ? order.Customer : null,
            full ? Json.Deserialize<Dictionary<string, string>>(order.MetadataJson) : null,
            [.. attempts.Select(a => new AttemptView(a.Id, a.Gateway, a.GatewayReference, a.Status, a.CreatedAt, a.UpdatedAt))],
            [.. timeline.Select(t => new TimelineView(t.At, t.Kind, t.Message,
                t.DataJson is null ? null : System.Text.Json.JsonDocument.Parse(t.DataJson).RootElement.Clone()))],
            order.CreatedAt, order.UpdatedAt)
        {
            CompensationRequiredAt = order.CompensationRequiredAt,
            NextCheckAt = order.NextCheckAt,
            LastGatewayStatus = order.LastGatewayStatus,
            Steps = full ? [.. (await store.ListStepsAsync(orderId, cancellationToken)).Select(s => new StepView(s.Step, s.Attempt, s.StartedAt, s.EndedAt, s.Outcome, s.Error))] : null,
            Fulfilment = full ? (await store.ListOrderTasksAsync(orderId, cancellationToken)).FirstOrDefault(t => t.Kind == OrderTaskRecord.Fulfil)?.Status : null,
        };
    }
}
