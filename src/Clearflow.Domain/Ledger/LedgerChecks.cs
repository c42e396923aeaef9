namespace Clearflow.Domain.Ledger;

/// <summary>Whether an order's row and its ledger postings tell the same story.</summary>
public static class LedgerChecks
{
    private static readonly HashSet<string> PaidStatuses = ["succeeded", "partially_refunded", "refunded"];

    public static IEnumerable<string> OrderProblems(string orderId, string status, long amountPaid, long amountRefunded, long captured, long refundedPosted)
    {
        if (captured != amountPaid)
        {
            yield return $"{orderId}: ledger captured {captured}, order says paid {amountPaid}";
        }
        if (refundedPosted != amountRefunded)
        {
            yield return $"{orderId}: ledger refunded {refundedPosted}, order says refunded {amountRefunded}";
        }
        if (PaidStatuses.Contains(status) != (amountPaid > 0))
        {
            yield return $"{orderId}: status {status} with {amountPaid} paid";
        }
        if (status == "refunded" && amountRefunded != amountPaid)
        {
            yield return $"{orderId}: refunded, but {amountRefunded} of {amountPaid} refunded";
        }
        if (status == "partially_refunded" && (amountRefunded <= 0 || amountRefunded >= amountPaid))
        {
            yield return $"{orderId}: partially refunded, but {amountRefunded} of {amountPaid} refunded";
        }
        if (amountRefunded > amountPaid)
        {
            yield return $"{orderId}: refunded {amountRefunded}, more than the {amountPaid} paid";
        }
    }
}
