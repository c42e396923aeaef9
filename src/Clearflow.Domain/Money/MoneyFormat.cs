using System.Globalization;

namespace Clearflow.Domain.Money;

/// <summary>Minor units to a major-unit string, by integer arithmetic only (49900 INR -> "499.00").</summary>
public static class MoneyFormat
{
    public static string ToMajorUnits(long minorUnits, Currency currency)
    {
        ArgumentNullException.ThrowIfNull(currency);
        if (currency.MinorDigits == 0)
        {
            return minorUnits.ToString(CultureInfo.InvariantCulture);
        }
        long scale = 1;
        for (var i = 0; i < currency.MinorDigits; i++)
        {
            scale *= 10;
        }
        var sign = minorUnits < 0 ? "-" : "";
        var absolute = minorUnits == long.MinValue ? (ulong)long.MaxValue + 1 : (ulong)Math.Abs(minorUnits);
        var major = absolute / (ulong)scale;
        var minor = absolute % (ulong)scale;
        return $"{sign}{major.ToString(CultureInfo.InvariantCulture)}.{minor.ToString(CultureInfo.InvariantCulture).PadLeft(currency.MinorDigits, '0')}";
    }

    /// <summary>
    /// Reads a major-unit amount a person typed ("499", "499.5", "499.50") into minor units, by integer
    /// arithmetic only. More decimals than the currency has, signs, exponents and separators are refused.
    /// </summary>
    public static bool TryParseMajorUnits(string? text, Currency currency, out long minorUnits)
    {
        ArgumentNullException.ThrowIfNull(currency);
        minorUnits = 0;
        var parts = (text ?? "").Trim().Split('.');
        if (parts.Length > 2 || parts[0].Length is 0 or > 15 || !parts[0].All(char.IsAsciiDigit)
            || (parts.Length == 2 && (parts[1].Length == 0 || parts[1].Length > currency.MinorDigits || !parts[1].All(char.IsAsciiDigit))))
        {
            return false;
        }
        long scale = 1;
        for (var i = 0; i < currency.MinorDigits; i++)
        {
            scale *= 10;
        }
        var fraction = parts.Length == 2 ? long.Parse(parts[1].PadRight(currency.MinorDigits, '0'), CultureInfo.InvariantCulture) : 0;
        minorUnits = long.Parse(parts[0], CultureInfo.InvariantCulture) * scale + fraction;
        return true;
    }
}
