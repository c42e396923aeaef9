using System.Data.Common;
using Clearflow.Application.Abstractions;
using Clearflow.Domain.Ledger;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private sealed class LedgerRow
    {
        public string TransactionId { get; set; } = "";
        public string PostingKey { get; set; } = "";
        public string MerchantId { get; set; } = "";
        public string? OrderId { get; set; }
        public string Account { get; set; } = "";
        public long Amount { get; set; }
        public string Currency { get; set; } = "";
        public string Kind { get; set; } = "";
        public long CreatedAt { get; set; }
    }

    private sealed class ImbalanceRow
    {
        public string TransactionId { get; set; } = "";
        public string Currency { get; set; } = "";
        public long Sum { get; set; }
    }

    private sealed class OrderTotalsRow
    {
        public string OrderId { get; set; } = "";
        public string Status { get; set; } = "";
        public long AmountPaid { get; set; }
        public long AmountRefunded { get; set; }
        public long Captured { get; set; }
        public long RefundedPosted { get; set; }
    }

    /// <summary>Posts a balanced transaction; its posting key makes a second posting of the same movement a no-op.</summary>
    private static IEnumerable<Statement> LedgerInserts(LedgerTransaction ledger, DateTimeOffset at) => ledger.Postings.Select(posting => new Statement(
        """
        INSERT INTO ledger_entries (transaction_id, posting_key, merchant_id, order_id, account, amount, currency, kind, created_at)
        VALUES (@PostingKey, @PostingKey, @MerchantId, @OrderId, @Account, @Amount, @Currency, @Kind, @at)
        ON CONFLICT DO NOTHING
        """, new { ledger.PostingKey, ledger.MerchantId, ledger.OrderId, posting.Account, posting.Amount, posting.Currency, ledger.Kind, at = Ms(at) }));

    private static async Task InsertLedgerAsync(DbConnection connection, DbTransaction transaction, LedgerTransaction ledger, DateTimeOffset at, CancellationToken cancellationToken)
    {
        foreach (var posting in LedgerInserts(ledger, at))
        {
            await ExecuteAsync(connection, transaction, posting, cancellationToken);
        }
    }

    public Task<IReadOnlyList<LedgerEntryRecord>> ListLedgerEntriesAsync(string? merchantId, string? orderId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<LedgerEntryRecord>)[.. (await connection.QueryAsync<LedgerRow>(Command(
            """
            SELECT transaction_id, posting_key, merchant_id, order_id, account, amount, currency, kind, created_at FROM ledger_entries
            WHERE (@merchantId IS NULL OR merchant_id = @merchantId) AND (@orderId IS NULL OR order_id = @orderId)
            ORDER BY id
            """, new { merchantId, orderId }, null, cancellationToken)))
            .Select(r => new LedgerEntryRecord(r.TransactionId, r.PostingKey, r.MerchantId, r.OrderId, r.Account, r.Amount, r.Currency, r.Kind, At(r.CreatedAt)))],
            cancellationToken);

    public Task<IReadOnlyList<LedgerImbalance>> LedgerImbalancesAsync(string? merchantId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<LedgerImbalance>)[.. (await connection.QueryAsync<ImbalanceRow>(Command(
            """
            SELECT transaction_id, currency, SUM(amount) AS sum FROM ledger_entries
            WHERE (@merchantId IS NULL OR merchant_id = @merchantId)
            GROUP BY transaction_id, currency HAVING SUM(amount) <> 0
            """, new { merchantId }, null, cancellationToken))).Select(r => new LedgerImbalance(r.TransactionId, r.Currency, r.Sum))], cancellationToken);

    public Task<IReadOnlyList<OrderLedgerTotals>> OrderLedgerTotalsAsync(string? merchantId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (IReadOnlyList<OrderLedgerTotals>)[.. (await connection.QueryAsync<OrderTotalsRow>(Command(
            """
            SELECT o.id AS order_id, o.status, o.amount_paid, o.amount_refunded,
                   COALESCE((SELECT SUM(l.amount) FROM ledger_entries l WHERE l.order_id = o.id AND l.kind = 'capture' AND l.amount > 0), 0) AS captured,
                   COALESCE((SELECT SUM(l.amount) FROM ledger_entries l WHERE l.order_id = o.id AND l.kind = 'refund' AND l.amount > 0), 0) AS refunded_posted
            FROM orders o
            WHERE (@merchantId IS NULL OR o.merchant_id = @merchantId)
            ORDER BY o.id
            """, new { merchantId }, null, cancellationToken)))
            .Select(r => new OrderLedgerTotals(r.OrderId, r.Status, r.AmountPaid, r.AmountRefunded, r.Captured, r.RefundedPosted))], cancellationToken);
}
