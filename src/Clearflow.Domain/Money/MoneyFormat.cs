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
}
