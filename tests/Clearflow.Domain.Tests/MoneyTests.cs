using Clearflow.Domain.Money;
using Xunit;

namespace Clearflow.Domain.Tests;

public sealed class MoneyTests
{
    [Theory]
    [InlineData("INR", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KWD", 3)]
    [InlineData("USD", 2)]
    public void Known_currencies_carry_their_minor_digits(string code, int digits)
    {
        Assert.True(Currency.TryParse(code, out var currency));
        Assert.Equal(digits, currency.MinorDigits);
    }

    [Theory]
    [InlineData("inr")]
    [InlineData("XYZ")]
    [InlineData("IN")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_or_lower_case_codes_are_refused(string? code)
    {
        Assert.False(Currency.TryParse(code, out _));
    }

    [Fact]
    public void Money_refuses_to_mix_currencies_and_refuses_to_overflow()
    {
        var inr = new Money.Money(100, Currency.Parse("INR"));
        var usd = new Money.Money(100, Currency.Parse("USD"));
        Assert.Equal(200, (inr + inr).MinorUnits);
        Assert.Throws<CurrencyMismatchException>(() => inr + usd);
        Assert.Throws<OverflowException>(() => new Money.Money(long.MaxValue, Currency.Parse("INR")) + inr);
    }

    [Theory]
    [InlineData(49_900, "INR", "499.00")]
    [InlineData(5, "INR", "0.05")]
    [InlineData(1234, "JPY", "1234")]
    [InlineData(1_000_001, "KWD", "1000.001")]
    [InlineData(-250, "USD", "-2.50")]
    [InlineData(9_007_199_254_740_991, "INR", "90071992547409.91")]
    public void Minor_units_format_to_major_units_without_floating_point(long minor, string code, string expected)
    {
        Assert.Equal(expected, MoneyFormat.ToMajorUnits(minor, Currency.Parse(code)));
    }

    [Theory]
    [InlineData("499", "INR", 49_900)]
    [InlineData("499.5", "INR", 49_950)]
    [InlineData("0.01", "INR", 1)]
    [InlineData(" 12.30 ", "USD", 1_230)]
    [InlineData("500", "JPY", 500)]
    [InlineData("1.234", "BHD", 1_234)]
    public void Typed_major_units_become_exact_minor_units(string text, string currency, long expected)
    {
        Assert.True(MoneyFormat.TryParseMajorUnits(text, Currency.Parse(currency), out var minor));
        Assert.Equal(expected, minor);
    }

    [Theory]
    [InlineData("", "INR")]
    [InlineData("4.999", "INR")]
    [InlineData("5.", "INR")]
    [InlineData(".5", "INR")]
    [InlineData("-5", "INR")]
    [InlineData("1e3", "INR")]
    [InlineData("1,000", "INR")]
    [InlineData("5.0", "JPY")]
    [InlineData("1.2.3", "INR")]
    public void Anything_else_typed_is_refused(string text, string currency) =>
        Assert.False(MoneyFormat.TryParseMajorUnits(text, Currency.Parse(currency), out _));
}
