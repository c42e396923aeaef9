using Clearflow.Domain.Orders;
using Xunit;

namespace Clearflow.Domain.Tests;

public sealed class OrderStateMachineTests
{
    [Fact]
    public void Nothing_moves_back_to_created_and_final_outcomes_never_return_to_open_states()
    {
        foreach (var from in Enum.GetValues<OrderStatus>())
        {
            Assert.False(OrderStateMachine.CanMove(from, OrderStatus.Created));
        }
        foreach (var final in new[] { OrderStatus.Succeeded, OrderStatus.Failed, OrderStatus.Expired, OrderStatus.Cancelled, OrderStatus.Refunded })
        {
            Assert.False(OrderStateMachine.CanMove(final, OrderStatus.Pending));
            Assert.False(OrderStateMachine.CanMove(final, OrderStatus.Unknown));
            Assert.False(OrderStateMachine.CanMove(final, OrderStatus.RequiresReview));
        }
    }

    [Fact]
    public void Refunds_only_follow_a_success()
    {
        Assert.True(OrderStateMachine.CanMove(OrderStatus.Succeeded, OrderStatus.Refunded));
        Assert.True(OrderStateMachine.CanMove(OrderStatus.PartiallyRefunded, OrderStatus.Refunded));
        Assert.False(OrderStateMachine.CanMove(OrderStatus.Failed, OrderStatus.Refunded));
        Assert.False(OrderStateMachine.CanMove(OrderStatus.Refunded, OrderStatus.Succeeded));
    }

    [Fact]
    public void Every_status_has_a_wire_name_that_reads_back()
    {
        foreach (var status in Enum.GetValues<OrderStatus>())
        {
            Assert.Equal(status, OrderStatusNames.FromWire(status.ToWire()));
        }
        Assert.Equal("requires_review", OrderStatus.RequiresReview.ToWire());
    }
}
