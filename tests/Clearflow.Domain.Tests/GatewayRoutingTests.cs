using Clearflow.Domain.Gateways;
using Xunit;

namespace Clearflow.Domain.Tests;

public sealed class GatewayRoutingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_breaker_opens_after_consecutive_failures_lets_one_trial_through_after_the_cool_down_and_closes_on_success()
    {
        var breaker = new CircuitBreaker(3, TimeSpan.FromSeconds(30));
        breaker = breaker.RecordFailure(T0).RecordFailure(T0);
        Assert.Equal(CircuitState.Closed, breaker.StateAt(T0));
        breaker = breaker.RecordSuccess().RecordFailure(T0).RecordFailure(T0); // a success resets the count
        Assert.Equal(CircuitState.Closed, breaker.StateAt(T0));
        breaker = breaker.RecordFailure(T0.AddSeconds(1));
        Assert.Equal(CircuitState.Open, breaker.StateAt(T0.AddSeconds(2)));
        Assert.False(breaker.TryAllow(T0.AddSeconds(30)).Allowed);

        var (allowed, trial) = breaker.TryAllow(T0.AddSeconds(31));
        Assert.True(allowed);
        Assert.Equal(CircuitState.HalfOpen, trial.StateAt(T0.AddSeconds(31)));
        Assert.False(trial.TryAllow(T0.AddSeconds(32)).Allowed); // one trial at a time
        Assert.Equal(CircuitState.Open, trial.RecordFailure(T0.AddSeconds(33)).StateAt(T0.AddSeconds(34))); // failed trial: open again
        Assert.Equal(CircuitState.Closed, trial.RecordSuccess().StateAt(T0.AddSeconds(33)));
    }

    [Fact]
    public void Rules_match_by_currency_method_and_amount_in_order_and_skip_unavailable_gateways()
    {
        RoutingRule[] rules =
        [
            new("razorpay", ["INR"], ["upi"], null, null),
            new("stripe", ["USD", "EUR"], [], 50, 1_000_000),
            new("cashfree", ["INR"], [], null, 500_000),
            new("sandbox", [], [], null, null),
        ];
        Assert.Equal("razorpay", GatewayRouting.Choose(rules, "INR", 10_000, "upi", _ => true).Gateway);
        Assert.Equal("cashfree", GatewayRouting.Choose(rules, "INR", 10_000, "card", _ => true).Gateway);
        Assert.Equal("cashfree", GatewayRouting.Choose(rules, "INR", 10_000, null, _ => true).Gateway);
        Assert.Equal("sandbox", GatewayRouting.Choose(rules, "INR", 600_000, null, _ => true).Gateway);
        Assert.Equal("stripe", GatewayRouting.Choose(rules, "USD", 50, null, _ => true).Gateway);
        Assert.Equal("sandbox", GatewayRouting.Choose(rules, "USD", 49, null, _ => true).Gateway);

        var (chosen, skipped) = GatewayRouting.Choose(rules, "INR", 10_000, "upi", g => g is not ("razorpay" or "cashfree"));
        Assert.Equal("sandbox", chosen);
        Assert.Equal(["razorpay", "cashfree"], skipped);
        Assert.Null(GatewayRouting.Choose(rules[..1], "USD", 10, null, _ => true).Gateway);
        var none = GatewayRouting.Choose(rules[..1], "INR", 10, "upi", _ => false);
        Assert.Null(none.Gateway);
        Assert.Equal(["razorpay"], none.Skipped);
    }
}
