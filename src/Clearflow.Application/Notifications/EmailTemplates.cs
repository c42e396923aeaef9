using System.Text.Json;
using System.Text.RegularExpressions;

namespace Clearflow.Application.Notifications;

/// <summary>A message's subject and bodies with <c>{{placeholder}}</c>s.</summary>
public sealed record EmailTemplate(string Subject, string Text, string Html);

/// <summary>
/// Templates for customer and operator emails: the merchant's own where set (merchant settings
/// <c>notifications.templates</c>, by topic), built-in ones otherwise. Placeholders are checked when a
/// template is saved, so a typo fails at the API, not at a customer's inbox.
/// </summary>
public static partial class EmailTemplates
{
    public static readonly IReadOnlyList<string> Placeholders =
        ["order_id", "receipt", "amount", "currency", "status", "refund_id", "reason", "detail", "summary", "report_date", "merchant_name", "customer_name"];

    public static readonly IReadOnlyDictionary<string, EmailTemplate> Defaults = new Dictionary<string, EmailTemplate>
    {
        ["customer.order_succeeded"] = new("Payment received for {{receipt}}", "Hello {{customer_name}},\n\nWe received your payment of {{amount}} {{currency}} for {{receipt}}.\n\n{{merchant_name}}", "<p>Hello {{customer_name}},</p><p>We received your payment of <b>{{amount}} {{currency}}</b> for {{receipt}}.</p><p>{{merchant_name}}</p>"),
        ["customer.order_failed"] = new("Payment for {{receipt}} did not go through", "Hello {{customer_name}},\n\nYour payment for {{receipt}} failed. No money was taken.\n\n{{merchant_name}}", "<p>Hello {{customer_name}},</p><p>Your payment for {{receipt}} failed. No money was taken.</p><p>{{merchant_name}}</p>"),
        ["customer.order_expired"] = new("Payment for {{receipt}} expired", "Hello {{customer_name}},\n\nThe payment for {{receipt}} was not completed in time.\n\n{{merchant_name}}", "<p>Hello {{customer_name}},</p><p>The payment for {{receipt}} was not completed in time.</p><p>{{merchant_name}}</p>"),
        ["customer.order_pending"] = new("Your payment for {{receipt}} is being processed", "Hello {{customer_name}},\n\nYour bank has not confirmed the payment for {{receipt}} yet. We will tell you as soon as it does.\n\n{{merchant_name}}", "<p>Hello {{customer_name}},</p><p>Your bank has not confirmed the payment for {{receipt}} yet. We will tell you as soon as it does.</p><p>{{merchant_name}}</p>"),
        ["customer.refund_created"] = new("Refund started for {{receipt}}", "Hello {{customer_name}},\n\nWe have started a refund of {{amount}} {{currency}} for {{receipt}}.\n\n{{merchant_name}}", "<p>Hello {{customer_name}},</p><p>We have started a refund of <b>{{amount}} {{currency}}</b> for {{receipt}}.</p><p>{{merchant_name}}</p>"),
        ["customer.refund_succeeded"] = new("Your refund for {{receipt}}", "Hello {{customer_name}},\n\n{{amount}} {{currency}} for {{receipt}} has been refunded. {{reason}}\n\n{{merchant_name}}", "<p>Hello {{customer_name}},</p><p><b>{{amount}} {{currency}}</b> for {{receipt}} has been refunded. {{reason}}</p><p>{{merchant_name}}</p>"),
        ["operator"] = new("[Clearflow] {{topic_title}}", "{{summary}}\n\nOrder: {{order_id}}\nReceipt: {{receipt}}\nReason: {{reason}}\n{{detail}}", "<p>{{summary}}</p><p>Order: {{order_id}}<br>Receipt: {{receipt}}<br>Reason: {{reason}}</p><p>{{detail}}</p>"),
    };

    [GeneratedRegex(@"\{\{\s*([a-z_]+)\s*\}\}")]
    private static partial Regex Placeholder();

    /// <summary>The placeholders a template uses that do not exist.</summary>
    public static IEnumerable<string> UnknownPlaceholders(EmailTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return Placeholder().Matches(template.Subject + template.Text + template.Html).Select(m => m.Groups[1].Value)
            .Where(p => !Placeholders.Contains(p) && p != "topic_title").Distinct();
    }

    public static EmailTemplate For(string topic, IReadOnlyDictionary<string, EmailTemplate>? merchantTemplates) =>
        merchantTemplates?.GetValueOrDefault(topic) ?? Defaults.GetValueOrDefault(topic) ?? Defaults["operator"];

    /// <summary>Fills placeholders; values go into the HTML body encoded.</summary>
    public static EmailTemplate Render(EmailTemplate template, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(template);
        string Fill(string text, bool html) => Placeholder().Replace(text, m =>
        {
            var value = values.GetValueOrDefault(m.Groups[1].Value, "");
            return html ? System.Net.WebUtility.HtmlEncode(value) : value;
        });
        return new EmailTemplate(Fill(template.Subject, false), Fill(template.Text, false), Fill(template.Html, true));
    }

    /// <summary>Placeholder values from a message's payload (strings and numbers at its top level).</summary>
    public static Dictionary<string, string> ValuesFrom(string payloadJson)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        using var json = JsonDocument.Parse(payloadJson);
        foreach (var property in json.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
            {
                values[property.Name] = property.Value.ToString();
            }
        }
        return values;
    }
}
