using System.Data.Common;
using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private sealed class OutboxRow
    {
        public string Id { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public string? OrderId { get; set; }
        public string Topic { get; set; } = "";
        public string DedupeKey { get; set; } = "";
        public string Payload { get; set; } = "";
        public long CreatedAt { get; set; }
        public long? DispatchedAt { get; set; }

        public OutboxMessage ToRecord() => new(Id, MerchantId, OrderId, Topic, DedupeKey, Payload, At(CreatedAt)) { DispatchedAt = At(DispatchedAt) };
    }

    public Task<bool> AddOutboxMessageAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction) => InsertOutboxAsync(connection, transaction, message, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<OutboxMessage>> ListOutboxMessagesAsync(string merchantId, string? orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<OutboxMessage>)[.. (await connection.QueryAsync<OutboxRow>(Command(
            """
            SELECT id, merchant_id, order_id, topic, dedupe_key, payload, created_at, dispatched_at FROM outbox_messages
            WHERE merchant_id = @merchantId AND (@orderId IS NULL OR order_id = @orderId) ORDER BY created_at, id
            """, new { merchantId, orderId }, null, cancellationToken))).Select(r => r.ToRecord())], cancellationToken);

    private static Statement OutboxInsert(OutboxMessage message) => new(
        """
        INSERT INTO outbox_messages (id, merchant_id, order_id, topic, dedupe_key, payload, created_at, dispatched_at)
        VALUES (@Id, @MerchantId, @OrderId, @Topic, @DedupeKey, @PayloadJson, @createdAt, NULL)
        ON CONFLICT DO NOTHING
        """, new { message.Id, message.MerchantId, message.OrderId, message.Topic, message.DedupeKey, message.PayloadJson, createdAt = Ms(message.CreatedAt) });

    private static async Task<bool> InsertOutboxAsync(DbConnection connection, DbTransaction transaction, OutboxMessage message, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, transaction, OutboxInsert(message), cancellationToken) == 1;
}
