using System.Globalization;
using Clearflow.Domain.Money;

namespace Clearflow.Server.Dashboard;

/// <summary>How the dashboard writes money and instants.</summary>
public static class Format
{
    /// <summary>"499.00 INR", by integer arithmetic; an unknown currency shows its minor units.</summary>
    public static string Money(long minorUnits, string currency) =>
        Currency.TryParse(currency, out var c) ? $"{MoneyFormat.ToMajorUnits(minorUnits, c)} {currency}" : $"{minorUnits} (minor units) {currency}";

    public static string At(DateTimeOffset? at) => at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : "";
}
