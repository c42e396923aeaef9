namespace Clearflow.Domain.Money;

/// <summary>
/// An amount in integer minor units of one currency. Never a floating-point number:
/// payments are counted, not measured.
/// </summary>
public readonly record struct Money
{
    public Money(long minorUnits, Currency currency)
    {
        ArgumentNullException.ThrowIfNull(currency);
        MinorUnits = minorUnits;
        Currency = currency;
    }

    public long MinorUnits { get; }
    public Currency Currency { get; }

    public static Money operator +(Money left, Money right)
    {
        EnsureSameCurrency(left, right);
        return new Money(checked(left.MinorUnits + right.MinorUnits), left.Currency);
    }

    public static Money operator -(Money left, Money right)
    {
        EnsureSameCurrency(left, right);
        return new Money(checked(left.MinorUnits - right.MinorUnits), left.Currency);
    }

    public Money Add(Money other) => this + other;
    public Money Subtract(Money other) => this - other;

    public override string ToString() => $"{MinorUnits} {Currency.Code} (minor units)";

    private static void EnsureSameCurrency(Money left, Money right)
    {
        if (left.Currency != right.Currency)
        {
            throw new CurrencyMismatchException(left.Currency, right.Currency);
        }
    }
}

/// <summary>Raised when two amounts in different currencies meet in arithmetic.</summary>
public sealed class CurrencyMismatchException(Currency left, Currency right)
    : InvalidOperationException($"Cannot combine {left.Code} with {right.Code}.");
