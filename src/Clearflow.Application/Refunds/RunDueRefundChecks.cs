using Clearflow.Application.Abstractions;

namespace Clearflow.Application.Refunds;

/// <summary>One round of refund status checks, claimed like payment checks.</summary>
public sealed class RunDueRefundChecks(IRefundStore store, CheckRefundStatus check, TimeProvider clock)
{
    public async Task<int> HandleAsync(int batchSize, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = await store.ClaimDueRefundChecksAsync(now, now + TimeSpan.FromMinutes(2), batchSize, cancellationToken);
        foreach (var refundId in due)
        {
            await check.HandleAsync(refundId, cancellationToken);
        }
        return due.Count;
    }
}
