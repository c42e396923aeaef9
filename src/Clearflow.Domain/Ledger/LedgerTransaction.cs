namespace Clearflow.Domain.Ledger;

/// <summary>One line of a ledger transaction: debits positive, credits negative, in minor units.</summary>
public sealed record Posting(string Account, long Amount, string Currency);

/// <summary>
/// A balanced set of postings for one money movement. It cannot be built unbalanced: for every
/// currency the postings sum to zero. <see cref="PostingKey"/> names the movement (capture of an order,
/// one refund) and is unique in storage, so the movement is written once.
/// </summary>
public sealed record LedgerTransaction
{
    private LedgerTransaction(string postingKey, string kind, string merchantId, string? orderId, IReadOnlyList<Posting> postings)
    {
        PostingKey = postingKey;
        Kind = kind;
        MerchantId = merchantId;
        OrderId = orderId;
        Postings = postings;
    }

    public string PostingKey { get; }
    public string Kind { get; }
    public string MerchantId { get; }
    public string? OrderId { get; }
    public IReadOnlyList<Posting> Postings { get; }

    public static LedgerTransaction Create(string postingKey, string kind, string merchantId, string? orderId, IReadOnlyList<Posting> postings)
    {
        ArgumentNullException.ThrowIfNull(postings);
        if (postings.Count < 2)
        {
            throw new ArgumentException("A ledger transaction needs at least two postings.", nameof(postings));
        }
        foreach (var group in postings.GroupBy(p => p.Currency))
        {
            var sum = group.Aggregate(0L, (total, p) => checked(total + p.Amount));
            if (sum != 0)
            {
                throw new ArgumentException($"Postings in {group.Key} sum to {sum}, not zero.", nameof(postings));
            }
        }
        if (postings.Any(p => p.Amount == 0))
        {
            throw new ArgumentException("A posting of zero moves nothing.", nameof(postings));
        }
        return new LedgerTransaction(postingKey, kind, merchantId, orderId, postings);
    }
}
