using Clearflow.Application.Common;
using Clearflow.Domain.Checks;
using Cronos;

namespace Clearflow.Application.Merchants;

/// <summary>
/// A merchant's settings, stored as one JSON document so new settings need no migration. Validated
/// when saved (<see cref="Problems"/>), so a bad cron expression fails at the API, not at 23:30.
/// </summary>
public sealed record MerchantSettings
{
    /// <summary>Gateways this merchant may use.</summary>
    public IReadOnlyList<string> Gateways { get; init; } = ["sandbox"];

    /// <summary>Used when an order names no gateway.</summary>
    public string DefaultGateway { get; init; } = "sandbox";

    /// <summary>
    /// Routing for orders that name no gateway: the first rule that matches (currency, payment method, amount)
    /// and whose gateway is not failing. Empty: <see cref="DefaultGateway"/>.
    /// </summary>
    public IReadOnlyList<RoutingRuleSettings> Routing { get; init; } = [];

    /// <summary>How pending payments are re-checked, unless a gateway has its own schedule.</summary>
    public StatusCheckSettings StatusChecks { get; init; } = new();

    /// <summary>Per-gateway schedules (e.g. a gateway whose UPI payments settle slowly).</summary>
    public IReadOnlyDictionary<string, StatusCheckSettings> GatewayStatusChecks { get; init; } = new Dictionary<string, StatusCheckSettings>();

    public EndOfDaySettings EndOfDay { get; init; } = new();

    /// <summary>How a paid order is delivered.</summary>
    public FulfilmentSettings Fulfilment { get; init; } = new();

    /// <summary>Who hears about what: operators' addresses, customer channels, email templates.</summary>
    public NotificationSettings Notifications { get; init; } = new();

    /// <summary>A success after the order was failed, expired or cancelled: "refund" it (default) or "accept" and fulfil it.</summary>
    public string LateSuccessPolicy { get; init; } = "refund";

    public CheckSchedule ScheduleFor(string gateway) =>
        (GatewayStatusChecks.TryGetValue(gateway, out var specific) ? specific : StatusChecks).ToSchedule();

    public static MerchantSettings Parse(string json) => Json.Deserialize<MerchantSettings>(json);

    public string ToJson() => Json.Serialize(this);

    /// <summary>Every problem, keyed by the JSON path of the field; empty when the settings are valid.</summary>
    public Dictionary<string, string[]> Problems(IReadOnlyCollection<string> knownGateways)
    {
        ArgumentNullException.ThrowIfNull(knownGateways);
        var problems = new Dictionary<string, List<string>>();
        void Add(string field, string message) => (problems.TryGetValue(field, out var list) ? list : problems[field] = []).Add(message);

        if (Gateways is null || Gateways.Count == 0)
        {
            Add("gateways", "List at least one gateway.");
        }
        foreach (var gateway in Gateways ?? [])
        {
            if (!knownGateways.Contains(gateway))
            {
                Add("gateways", $"Unknown gateway '{gateway}'. Known: {string.Join(", ", knownGateways)}.");
            }
        }
        if (Gateways is not null && !Gateways.Contains(DefaultGateway))
        {
            Add("default_gateway", "Must be one of 'gateways'.");
        }
        for (var i = 0; i < (Routing ?? []).Count; i++)
        {
            var rule = Routing![i];
            if (rule.Gateway is null || Gateways?.Contains(rule.Gateway) != true)
            {
                Add($"routing[{i}].gateway", "Must be one of 'gateways'.");
            }
            foreach (var currency in rule.Currencies ?? [])
            {
                if (!Domain.Money.Currency.TryParse(currency, out _))
                {
                    Add($"routing[{i}].currencies", $"'{currency}' is not an ISO 4217 code.");
                }
            }
            if (rule.MinAmount is < 0 || rule.MaxAmount is < 0 || (rule.MinAmount is { } min && rule.MaxAmount is { } max && min > max))
            {
                Add($"routing[{i}]", "min_amount and max_amount are minor units, not negative, min not above max.");
            }
        }
        foreach (var (field, message) in (StatusChecks ?? new()).Problems())
        {
            Add("status_checks." + field, message);
        }
        foreach (var (gateway, schedule) in GatewayStatusChecks ?? new Dictionary<string, StatusCheckSettings>())
        {
            if (!knownGateways.Contains(gateway))
            {
                Add("gateway_status_checks", $"Unknown gateway '{gateway}'.");
            }
            foreach (var (field, message) in schedule.Problems())
            {
                Add($"gateway_status_checks.{gateway}.{field}", message);
            }
        }
        foreach (var (field, message) in (EndOfDay ?? new()).Problems())
        {
            Add("end_of_day." + field, message);
        }
        foreach (var (field, message) in (Fulfilment ?? new()).Problems())
        {
            Add("fulfilment." + field, message);
        }
        foreach (var (field, message) in (Notifications ?? new()).Problems())
        {
            Add("notifications." + field, message);
        }
        if (LateSuccessPolicy is not ("refund" or "accept"))
        {
            Add("late_success_policy", "Must be 'refund' or 'accept'.");
        }
        return problems.ToDictionary(p => p.Key, p => p.Value.ToArray());
    }
}

/// <summary>A routing rule as merchants write it; absent conditions match any order.</summary>
public sealed record RoutingRuleSettings
{
    public string? Gateway { get; init; }
    public IReadOnlyList<string>? Currencies { get; init; }
    public IReadOnlyList<string>? Methods { get; init; }
    public long? MinAmount { get; init; }
    public long? MaxAmount { get; init; }

    public Domain.Gateways.RoutingRule ToRule() =>
        new(Gateway ?? "", [.. (Currencies ?? []).Select(c => c.ToUpperInvariant())], Methods ?? [], MinAmount, MaxAmount);
}

/// <summary>The status-check schedule as merchants write it (durations as <c>d.hh:mm:ss</c>).</summary>
public sealed record StatusCheckSettings
{
    /// <summary>Waits before the first checks, counted from the customer reaching the gateway.</summary>
    public IReadOnlyList<TimeSpan> Intervals { get; init; } = CheckSchedule.Default.Intervals;

    /// <summary>Wait between checks after <see cref="Intervals"/> are used up.</summary>
    public TimeSpan RepeatEvery { get; init; } = CheckSchedule.Default.RepeatEvery;

    /// <summary>After this, an order still not final goes to requires_review.</summary>
    public TimeSpan MaxAge { get; init; } = CheckSchedule.Default.MaxAge;

    /// <summary>An order the customer never paid expires after this (once the gateway confirms nothing was paid).</summary>
    public TimeSpan ExpireUnpaidAfter { get; init; } = CheckSchedule.Default.ExpireUnpaidAfter;

    public CheckSchedule ToSchedule() => new(Intervals ?? [], RepeatEvery, MaxAge, ExpireUnpaidAfter);

    public IEnumerable<(string Field, string Message)> Problems() => ToSchedule().Problems();
}

/// <summary>When the end-of-day sweep runs: a cron expression in the merchant's time zone.</summary>
public sealed record EndOfDaySettings
{
    /// <summary>Five-field cron (minute hour day month weekday). Default: 23:30 every day.</summary>
    public string Cron { get; init; } = "30 23 * * *";

    /// <summary>IANA time zone id. Default: Asia/Kolkata.</summary>
    public string TimeZone { get; init; } = "Asia/Kolkata";

    public CronExpression ParseCron() => CronExpression.Parse(Cron, CronFormat.Standard);

    public TimeZoneInfo FindTimeZone() => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    public IEnumerable<(string Field, string Message)> Problems()
    {
        string? cronError = null;
        try
        {
            ParseCron();
        }
        catch (Exception ex) when (ex is CronFormatException or ArgumentException)
        {
            cronError = $"'{Cron}' is not a five-field cron expression (minute hour day-of-month month day-of-week): {ex.Message}";
        }
        if (cronError is not null)
        {
            yield return ("cron", cronError);
        }
        string? zoneError = null;
        try
        {
            FindTimeZone();
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            zoneError = $"'{TimeZone}' is not a known IANA time zone (e.g. Asia/Kolkata, Europe/Berlin, UTC).";
        }
        if (zoneError is not null)
        {
            yield return ("time_zone", zoneError);
        }
    }
}

/// <summary>How a paid order is delivered: nowhere ("none"), by a signed HTTP call ("webhook"), or by an in-process handler ("in_process").</summary>
public sealed record FulfilmentSettings
{
    public string Mode { get; init; } = "none";

    /// <summary>With mode "webhook": where the signed fulfilment request goes. 2xx fulfilled, 4xx refused for good, 5xx/timeout retried.</summary>
    public Uri? Url { get; init; }

    /// <summary>Signs fulfilment requests (Standard Webhooks, <c>whsec_</c> + base64). Generated when missing.</summary>
    public string? SigningSecret { get; init; }

    /// <summary>Attempts before a failing fulfilment counts as failed for good (and the customer is refunded).</summary>
    public int MaxAttempts { get; init; } = 8;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public IEnumerable<(string Field, string Message)> Problems()
    {
        if (Mode is not ("none" or "webhook" or "in_process"))
        {
            yield return ("mode", "Must be 'none', 'webhook' or 'in_process'.");
        }
        if (Mode == "webhook" && (Url is null || !Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https")))
        {
            yield return ("url", "With mode 'webhook', an absolute http or https URL is required.");
        }
        if (MaxAttempts is < 1 or > 50)
        {
            yield return ("max_attempts", "Must be between 1 and 50.");
        }
        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromSeconds(60))
        {
            yield return ("timeout", "Must be between 00:00:01 and 00:01:00.");
        }
        if (SigningSecret is not null && !SigningSecret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            yield return ("signing_secret", "Must start with 'whsec_' followed by base64 (or leave it out to have one generated).");
        }
    }
}

public sealed record NotificationSettings
{
    /// <summary>Where operator notices go (orders needing review, daily reports, disabled endpoints).</summary>
    public IReadOnlyList<string> OperatorEmails { get; init; } = [];

    /// <summary>Email customers (when the order has their address and an SMTP server is configured).</summary>
    public bool CustomerEmail { get; init; } = true;

    /// <summary>Text customers, with the template's text part (when the order has their phone and a text provider is configured).</summary>
    public bool CustomerText { get; init; } = true;

    /// <summary>Email templates by topic (e.g. <c>customer.order_succeeded</c>, <c>operator.daily_report</c>).</summary>
    public IReadOnlyDictionary<string, Notifications.EmailTemplate> Templates { get; init; } = new Dictionary<string, Notifications.EmailTemplate>();

    public IEnumerable<(string Field, string Message)> Problems()
    {
        foreach (var email in OperatorEmails ?? [])
        {
            if (email.IndexOf('@', StringComparison.Ordinal) <= 0 || email.Length > 254)
            {
                yield return ("operator_emails", $"'{email}' is not an email address.");
            }
        }
        foreach (var (topic, template) in Templates ?? new Dictionary<string, Notifications.EmailTemplate>())
        {
            if (!topic.StartsWith("customer.", StringComparison.Ordinal) && !topic.StartsWith("operator.", StringComparison.Ordinal))
            {
                yield return ("templates", $"'{topic}' is not a customer.* or operator.* topic.");
            }
            if (template is null || string.IsNullOrWhiteSpace(template.Subject) || template.Text is null || template.Html is null)
            {
                yield return ($"templates.{topic}", "A template needs a subject, text and html.");
                continue;
            }
            foreach (var unknown in Notifications.EmailTemplates.UnknownPlaceholders(template))
            {
                yield return ($"templates.{topic}", $"Unknown placeholder {{{{{unknown}}}}}. Known: {string.Join(", ", Notifications.EmailTemplates.Placeholders)}.");
            }
        }
    }
}
