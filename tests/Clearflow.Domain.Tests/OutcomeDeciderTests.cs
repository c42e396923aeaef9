using Clearflow.Domain.Orders;
using Xunit;

namespace Clearflow.Domain.Tests;

public sealed class OutcomeDeciderTests
{
    private static OutcomeDecision Decide(OrderStatus current, GatewayPaymentStatus reported, long? amount = 1000, string? currency = "INR") =>
        OutcomeDecider.Decide(current, 1000, "INR", new GatewayObservation(reported, amount, currency));

    [Theory]
    [InlineData(OrderStatus.Created, GatewayPaymentStatus.Succeeded, OrderStatus.Succeeded)]
    [InlineData(OrderStatus.Pending, GatewayPaymentStatus.Succeeded, OrderStatus.Succeeded)]
    [InlineData(OrderStatus.Unknown, GatewayPaymentStatus.Succeeded, OrderStatus.Succeeded)]
    [InlineData(OrderStatus.RequiresReview, GatewayPaymentStatus.Succeeded, OrderStatus.Succeeded)]
    [InlineData(OrderStatus.Created, GatewayPaymentStatus.Pending, OrderStatus.Pending)]
    [InlineData(OrderStatus.Unknown, GatewayPaymentStatus.Pending, OrderStatus.Pending)]
    [InlineData(OrderStatus.Pending, GatewayPaymentStatus.Failed, OrderStatus.Failed)]
    [InlineData(OrderStatus.Created, GatewayPaymentStatus.Cancelled, OrderStatus.Cancelled)]
    [InlineData(OrderStatus.Pending, GatewayPaymentStatus.Expired, OrderStatus.Expired)]
    public void A_forward_report_moves_the_order(OrderStatus current, GatewayPaymentStatus reported, OrderStatus expected)
    {
        var move = Assert.IsType<OutcomeDecision.Move>(Decide(current, reported));
        Assert.Equal(expected, move.To);
        Assert.True(OrderStateMachine.CanMove(current, move.To));
        Assert.False(move.IsLateSuccess);
    }

    [Theory]
    [InlineData(OrderStatus.Succeeded, GatewayPaymentStatus.Pending)]
    [InlineData(OrderStatus.Succeeded, GatewayPaymentStatus.Failed)]
    [InlineData(OrderStatus.Failed, GatewayPaymentStatus.Pending)]
    [InlineData(OrderStatus.Refunded, GatewayPaymentStatus.Succeeded)]
    [InlineData(OrderStatus.PartiallyRefunded, GatewayPaymentStatus.Succeeded)]
    [InlineData(OrderStatus.Expired, GatewayPaymentStatus.Failed)]
    [InlineData(OrderStatus.Succeeded, GatewayPaymentStatus.Succeeded)]
    [InlineData(OrderStatus.Pending, GatewayPaymentStatus.Created)]
    public void A_backward_repeated_or_empty_report_is_ignored(OrderStatus current, GatewayPaymentStatus reported)
    {
        Assert.IsType<OutcomeDecision.Ignore>(Decide(current, reported));
    }

    [Theory]
    [InlineData(OrderStatus.Failed)]
    [InlineData(OrderStatus.Expired)]
    [InlineData(OrderStatus.Cancelled)]
    public void A_success_after_the_order_was_closed_is_a_late_success_not_ignored(OrderStatus current)
    {
        var move = Assert.IsType<OutcomeDecision.Move>(Decide(current, GatewayPaymentStatus.Succeeded));
        Assert.True(move.IsLateSuccess);
        Assert.Equal(OrderStatus.Succeeded, move.To);
        Assert.True(OrderStateMachine.CanMove(current, move.To));
    }

    [Fact]
    public void A_different_amount_or_currency_is_never_believed()
    {
        Assert.IsType<OutcomeDecision.Review>(Decide(OrderStatus.Pending, GatewayPaymentStatus.Succeeded, amount: 999));
        Assert.IsType<OutcomeDecision.Review>(Decide(OrderStatus.Created, GatewayPaymentStatus.Succeeded, currency: "USD"));
        // Already final: recorded, but nothing moves.
        Assert.IsType<OutcomeDecision.Ignore>(Decide(OrderStatus.Succeeded, GatewayPaymentStatus.Succeeded, amount: 999));
    }

    [Fact]
    public void A_report_without_an_amount_is_judged_by_its_status_alone()
    {
        Assert.IsType<OutcomeDecision.Move>(Decide(OrderStatus.Created, GatewayPaymentStatus.Failed, amount: null, currency: null));
    }
}
