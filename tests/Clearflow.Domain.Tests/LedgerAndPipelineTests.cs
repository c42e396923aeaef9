using Clearflow.Domain.Ledger;
using Clearflow.Domain.Pipeline;
using Xunit;

namespace Clearflow.Domain.Tests;

public sealed class LedgerAndPipelineTests
{
    [Fact]
    public void A_ledger_transaction_cannot_be_built_unbalanced()
    {
        Assert.Throws<ArgumentException>(() => LedgerTransaction.Create("k", "capture", "m", "o", [new Posting("a", 100, "INR"), new Posting("b", -99, "INR")]));
        Assert.Throws<ArgumentException>(() => LedgerTransaction.Create("k", "capture", "m", "o", [new Posting("a", 100, "INR"), new Posting("b", -100, "USD")]));
        Assert.Throws<ArgumentException>(() => LedgerTransaction.Create("k", "capture", "m", "o", [new Posting("a", 100, "INR")]));
        Assert.Throws<ArgumentException>(() => LedgerTransaction.Create("k", "capture", "m", "o", [new Posting("a", 0, "INR"), new Posting("b", 0, "INR")]));
    }

    [Fact]
    public void Capture_refund_and_fee_each_balance_and_name_their_movement()
    {
        var capture = LedgerRules.Capture("mer_1", "ord_1", "sandbox", 49_900, "INR");
        var refund = LedgerRules.Refund("mer_1", "ord_1", "rfd_1", "sandbox", 10_000, "INR");
        var fee = LedgerRules.Fee("mer_1", "ord_1", "sandbox", 118, "INR");
        Assert.Equal(("capture:ord_1", "refund:rfd_1", "fee:ord_1"), (capture.PostingKey, refund.PostingKey, fee.PostingKey));
        foreach (var transaction in new[] { capture, refund, fee })
        {
            Assert.Equal(0, transaction.Postings.Sum(p => p.Amount));
        }
        Assert.Equal(49_900, capture.Postings.Single(p => p.Account == "gateway_clearing:sandbox").Amount);
        Assert.Equal(-49_900, capture.Postings.Single(p => p.Account == "merchant_payable:mer_1").Amount);
    }

    [Theory]
    [InlineData("succeeded", 1000, 0, 1000, 0, 0)]
    [InlineData("partially_refunded", 1000, 300, 1000, 300, 0)]
    [InlineData("refunded", 1000, 1000, 1000, 1000, 0)]
    [InlineData("failed", 0, 0, 0, 0, 0)]
    [InlineData("succeeded", 1000, 0, 0, 0, 1)]          // paid, never posted
    [InlineData("failed", 0, 0, 1000, 0, 1)]             // posted a capture for a failed payment
    [InlineData("refunded", 1000, 500, 1000, 500, 1)]    // "refunded" but only half
    [InlineData("partially_refunded", 1000, 0, 1000, 0, 1)]
    [InlineData("succeeded", 1000, 200, 1000, 100, 1)]   // refund not posted in full
    public void An_orders_postings_must_tell_the_same_story_as_its_row(string status, long paid, long refunded, long captured, long refundedPosted, int problems)
    {
        Assert.Equal(problems, LedgerChecks.OrderProblems("ord_1", status, paid, refunded, captured, refundedPosted).Count());
    }

    [Theory]
    [InlineData(200, FulfilmentOutcome.Fulfilled)]
    [InlineData(204, FulfilmentOutcome.Fulfilled)]
    [InlineData(400, FulfilmentOutcome.Permanent)]
    [InlineData(410, FulfilmentOutcome.Permanent)]
    [InlineData(408, FulfilmentOutcome.Transient)]
    [InlineData(429, FulfilmentOutcome.Transient)]
    [InlineData(500, FulfilmentOutcome.Transient)]
    [InlineData(503, FulfilmentOutcome.Transient)]
    [InlineData(null, FulfilmentOutcome.Transient)]
    [InlineData(302, FulfilmentOutcome.Transient)]
    public void A_merchant_answer_is_classified_for_retry(int? status, FulfilmentOutcome expected)
    {
        Assert.Equal(expected, FulfilmentOutcomes.Classify(status));
    }

    [Fact]
    public void Backoff_doubles_with_jitter_in_the_upper_half_and_stops_at_ten_minutes()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), Backoff.Delay(1, 0));
        Assert.Equal(TimeSpan.FromSeconds(2), Backoff.Delay(1, 1));
        Assert.Equal(TimeSpan.FromSeconds(8), Backoff.Delay(3, 1));
        Assert.Equal(TimeSpan.FromSeconds(6), Backoff.Delay(3, 0.5));
        Assert.Equal(TimeSpan.FromMinutes(10), Backoff.Delay(40, 1));
        Assert.Equal(TimeSpan.FromMinutes(5), Backoff.Delay(40, 0));
    }
}
