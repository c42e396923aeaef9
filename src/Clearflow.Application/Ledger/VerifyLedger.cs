using Clearflow.Application.Abstractions;
using Clearflow.Domain.Ledger;

namespace Clearflow.Application.Ledger;

/// <summary>
/// Checks the books: every ledger transaction balances per currency, and every order's postings agree
/// with its status and amounts. <c>GET /v1/ledger/verify</c> (one merchant) and <c>clearflow ledger verify</c> (all).
/// </summary>
public sealed class VerifyLedger(ILedgerStore store)
{
    public sealed record Verification(bool Balanced, int OrdersChecked, IReadOnlyList<string> Problems);

    public async Task<Verification> HandleAsync(string? merchantId, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var imbalance in await store.LedgerImbalancesAsync(merchantId, cancellationToken))
        {
            problems.Add($"transaction {imbalance.TransactionId} does not balance in {imbalance.Currency}: sums to {imbalance.Sum}");
        }
        var orders = await store.OrderLedgerTotalsAsync(merchantId, cancellationToken);
        foreach (var o in orders)
        {
            problems.AddRange(LedgerChecks.OrderProblems(o.OrderId, o.Status, o.AmountPaid, o.AmountRefunded, o.Captured, o.RefundedPosted));
        }
        return new Verification(problems.Count == 0, orders.Count, problems);
    }
}
