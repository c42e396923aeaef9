using Clearflow.Domain.Checks;
using Clearflow.Domain.Orders;
using Xunit;

namespace Clearflow.Domain.Tests;

public sealed class StatusCheckPolicyTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 24, 6, 0, 0, TimeSpan.Zero);
    private static readonly CheckSchedule Schedule = CheckSchedule.Default;

    private static CheckFollowUp After(OrderStatus status, GatewayPaymentStatus? answer, TimeSpan elapsed, int checksDone) =>
        StatusCheckPolicy.AfterAnswer(status, answer, Created, Created, checksDone, Created + elapsed, Schedule);

    [Fact]
    public void The_default_schedule_is_one_minute_then_five_then_every_fifteen()
    {
        Assert.Equal(TimeSpan.FromMinutes(1), Schedule.DelayAfter(0));
        Assert.Equal(TimeSpan.FromMinutes(5), Schedule.DelayAfter(1));
        Assert.Equal(TimeSpan.FromMinutes(15), Schedule.DelayAfter(2));
        Assert.Equal(TimeSpan.FromMinutes(15), Schedule.DelayAfter(50));
        Assert.Equal(TimeSpan.FromHours(48), Schedule.MaxAge);
        Assert.Equal(TimeSpan.FromMinutes(30), Schedule.ExpireUnpaidAfter);
    }

    [Fact]
    public void A_pending_answer_schedules_the_next_check_by_the_number_of_checks_done()
    {
        var first = Assert.IsType<CheckFollowUp.CheckAgain>(After(OrderStatus.Pending, GatewayPaymentStatus.Pending, TimeSpan.FromMinutes(1), 1));
        Assert.Equal(Created + TimeSpan.FromMinutes(6), first.At);
        var third = Assert.IsType<CheckFollowUp.CheckAgain>(After(OrderStatus.Pending, GatewayPaymentStatus.Pending, TimeSpan.FromMinutes(6), 2));
        Assert.Equal(Created + TimeSpan.FromMinutes(21), third.At);
    }

    [Theory]
    [InlineData(OrderStatus.Succeeded)]
    [InlineData(OrderStatus.Failed)]
    [InlineData(OrderStatus.Expired)]
    [InlineData(OrderStatus.RequiresReview)]
    public void Final_orders_and_orders_with_an_operator_are_not_checked_again(OrderStatus status)
    {
        Assert.IsType<CheckFollowUp.Stop>(After(status, GatewayPaymentStatus.Pending, TimeSpan.FromMinutes(1), 1));
        Assert.IsType<CheckFollowUp.Stop>(StatusCheckPolicy.AfterFailure(status, Created, 1, Created, Schedule, "down"));
    }

    [Fact]
    public void An_unpaid_order_expires_at_its_time_and_not_before_and_the_check_is_moved_to_that_time()
    {
        var before = Assert.IsType<CheckFollowUp.CheckAgain>(After(OrderStatus.Created, GatewayPaymentStatus.Created, TimeSpan.FromMinutes(21), 3));
        Assert.Equal(Created + TimeSpan.FromMinutes(30), before.At); // not 21 + 15
        Assert.IsType<CheckFollowUp.Expire>(After(OrderStatus.Created, GatewayPaymentStatus.Created, TimeSpan.FromMinutes(30), 4));
        Assert.IsType<CheckFollowUp.Expire>(After(OrderStatus.Created, null, TimeSpan.FromMinutes(30), 0));
    }

    [Fact]
    public void A_payment_the_gateway_calls_pending_is_never_expired_only_reviewed_at_max_age()
    {
        Assert.IsType<CheckFollowUp.CheckAgain>(After(OrderStatus.Pending, GatewayPaymentStatus.Pending, TimeSpan.FromHours(47), 100));
        var review = Assert.IsType<CheckFollowUp.Review>(After(OrderStatus.Pending, GatewayPaymentStatus.Pending, TimeSpan.FromHours(48), 101));
        Assert.Contains("last gateway answer: pending", review.Reason);
        var last = Assert.IsType<CheckFollowUp.CheckAgain>(After(OrderStatus.Pending, GatewayPaymentStatus.Pending, TimeSpan.FromHours(48) - TimeSpan.FromMinutes(5), 100));
        Assert.Equal(Created + TimeSpan.FromHours(48), last.At); // the review happens on time

        // Pending by a signal, "created" by the gateway's answer: which is newer is not known, so no expiry on a guess.
        Assert.IsType<CheckFollowUp.CheckAgain>(After(OrderStatus.Pending, GatewayPaymentStatus.Created, TimeSpan.FromMinutes(30), 4));
        Assert.IsType<CheckFollowUp.Review>(After(OrderStatus.Pending, GatewayPaymentStatus.Created, TimeSpan.FromHours(48), 101));
    }

    [Fact]
    public void An_unreachable_gateway_backs_off_from_thirty_seconds_up_to_the_repeat_interval_then_goes_to_review()
    {
        TimeSpan Backoff(int failures) =>
            Assert.IsType<CheckFollowUp.CheckAgain>(StatusCheckPolicy.AfterFailure(OrderStatus.Unknown, Created, failures, Created, Schedule, "503")).At - Created;
        Assert.Equal(TimeSpan.FromSeconds(30), Backoff(1));
        Assert.Equal(TimeSpan.FromSeconds(60), Backoff(2));
        Assert.Equal(TimeSpan.FromMinutes(8), Backoff(5));
        Assert.Equal(TimeSpan.FromMinutes(15), Backoff(30));
        var review = Assert.IsType<CheckFollowUp.Review>(StatusCheckPolicy.AfterFailure(OrderStatus.Unknown, Created, 9, Created + TimeSpan.FromHours(48), Schedule, "503"));
        Assert.Contains("could not be asked (503)", review.Reason);
    }

    [Fact]
    public void A_schedule_outside_its_limits_names_each_bad_field()
    {
        var bad = new CheckSchedule([TimeSpan.FromSeconds(1)], TimeSpan.FromDays(2), TimeSpan.FromDays(60), TimeSpan.FromDays(61));
        Assert.Equal(["intervals", "repeat_every", "max_age", "expire_unpaid_after"], bad.Problems().Select(p => p.Field));
        Assert.Empty(CheckSchedule.Default.Problems());
    }

    [Fact]
    public void An_order_whose_status_was_lost_learns_from_a_not_attempted_answer()
    {
        var move = Assert.IsType<OutcomeDecision.Move>(OutcomeDecider.Decide(OrderStatus.Unknown, 100, "INR", new GatewayObservation(GatewayPaymentStatus.Created, 100, "INR")));
        Assert.Equal(OrderStatus.Pending, move.To);
    }
}
