using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Domain.Money;

namespace Clearflow.Application.Orders.CreateOrder;

/// <summary>A validated <c>POST /v1/orders</c> body.</summary>
public sealed record CreateOrderRequest(
    long Amount,
    string Currency,
    string Receipt,
    CustomerRecord Customer,
    IReadOnlyDictionary<string, string> Metadata,
    string? Gateway,
    string? ReturnUrl,
    string? PaymentMethod = null)
{
    /// <summary>2^53 - 1: the largest integer every JSON client (JavaScript included) reads exactly.</summary>
    public const long MaxAmount = 9_007_199_254_740_991;

    public const int MaxMetadataPairs = 20;

    /// <summary>
    /// Reads and validates the raw body, naming every bad field with a message a developer can act on.
    /// Parsing by hand (not model binding) is what lets "10.5", "1e3" and 2^64 get precise answers.
    /// </summary>
    public static Result<CreateOrderRequest> Parse(ReadOnlySpan<byte> body)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 16 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            return Problem.BadRequest("malformed-json", $"The body is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Problem.BadRequest("malformed-json", "The body must be a JSON object.");
            }
            var errors = new Dictionary<string, string[]>();
            void Fail(string field, string message) => errors[field] = [message];

            long amount = 0;
            if (!root.TryGetProperty("amount", out var amountElement))
            {
                Fail("amount", "Required: the amount in integer minor units (e.g. 49900 for INR 499.00).");
            }
            else if (amountElement.ValueKind != JsonValueKind.Number || !amountElement.TryGetInt64(out amount)
                     || amountElement.GetRawText().AsSpan().ContainsAny(".eE"))
            {
                Fail("amount", amountElement.ValueKind == JsonValueKind.Number && !amountElement.GetRawText().AsSpan().ContainsAny(".eE")
                    ? $"Too large: the amount must be at most {MaxAmount} minor units."
                    : "Must be an integer number of minor units (no decimals, no strings).");
            }
            else if (amount <= 0)
            {
                Fail("amount", "Must be greater than zero.");
            }
            else if (amount > MaxAmount)
            {
                Fail("amount", $"Too large: the amount must be at most {MaxAmount} minor units.");
            }

            var currencyCode = ReadString(root, "currency", errors, required: true, maxLength: 3);
            if (currencyCode is not null && !Domain.Money.Currency.TryParse(currencyCode.ToUpperInvariant(), out _))
            {
                Fail("currency", $"'{currencyCode}' is not an ISO 4217 currency code.");
            }

            var receipt = ReadString(root, "receipt", errors, required: true, maxLength: 40);
            var gateway = ReadString(root, "gateway", errors, required: false, maxLength: 32);
            var returnUrl = ReadString(root, "return_url", errors, required: false, maxLength: 2000);
            if (returnUrl is not null && (!Uri.TryCreate(returnUrl, UriKind.Absolute, out var parsedReturn) || parsedReturn.Scheme is not ("http" or "https")))
            {
                Fail("return_url", "Must be an absolute http or https URL.");
            }

            CustomerRecord? customer = null;
            if (!root.TryGetProperty("customer", out var customerElement) || customerElement.ValueKind != JsonValueKind.Object)
            {
                Fail("customer", "Required: an object with at least an 'id'.");
            }
            else
            {
                var customerErrors = new Dictionary<string, string[]>();
                var id = ReadString(customerElement, "id", customerErrors, required: true, maxLength: 64);
                var email = ReadString(customerElement, "email", customerErrors, required: false, maxLength: 254);
                var phone = ReadString(customerElement, "phone", customerErrors, required: false, maxLength: 16);
                var name = ReadString(customerElement, "name", customerErrors, required: false, maxLength: 100);
                if (email is not null && (email.IndexOf('@', StringComparison.Ordinal) is <= 0 || email.EndsWith('@')))
                {
                    customerErrors["email"] = ["Must be an email address."];
                }
                if (phone is not null && !IsPhone(phone))
                {
                    customerErrors["phone"] = ["Must be a phone number in E.164 form, e.g. +919876543210."];
                }
                foreach (var (field, messages) in customerErrors)
                {
                    errors["customer." + field] = messages;
                }
                if (id is not null)
                {
                    customer = new CustomerRecord(id, email, phone, name);
                }
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var metadataElement) && metadataElement.ValueKind != JsonValueKind.Null)
            {
                if (metadataElement.ValueKind != JsonValueKind.Object)
                {
                    Fail("metadata", "Must be an object of string values.");
                }
                else
                {
                    foreach (var pair in metadataElement.EnumerateObject())
                    {
                        if (pair.Value.ValueKind != JsonValueKind.String || pair.Name.Length is 0 or > 40 || pair.Value.GetString()!.Length > 500)
                        {
                            Fail("metadata", "Keys are 1-40 characters and values are strings of at most 500 characters.");
                            break;
                        }
                        metadata[pair.Name] = pair.Value.GetString()!;
                    }
                    if (metadata.Count > MaxMetadataPairs)
                    {
                        Fail("metadata", $"At most {MaxMetadataPairs} pairs.");
                    }
                }
            }

            var paymentMethod = ReadString(root, "payment_method", errors, required: false, maxLength: 32);
            if (paymentMethod is not null && !paymentMethod.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                errors["payment_method"] = ["Lowercase letters, digits and '_' (card, upi, netbanking, wallet, ...): used by routing rules."];
            }
            if (errors.Count > 0)
            {
                return Problem.Validation(errors);
            }
            return new CreateOrderRequest(amount, currencyCode!.ToUpperInvariant(), receipt!, customer!, metadata, gateway, returnUrl, paymentMethod);
        }
    }

    /// <summary>A stable fingerprint of the request: same fields, same hash, whatever the whitespace or key order.</summary>
    public string Fingerprint() => Secrets.Sha256Hex(Json.Serialize(new
    {
        Amount,
        Currency,
        Receipt,
        Customer,
        Metadata = new SortedDictionary<string, string>(Metadata.ToDictionary(), StringComparer.Ordinal),
        Gateway,
        ReturnUrl,
        PaymentMethod,
    }));

    private static string? ReadString(JsonElement parent, string name, Dictionary<string, string[]> errors, bool required, int maxLength)
    {
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors[name] = ["Required."];
            }
            return null;
        }
        if (element.ValueKind != JsonValueKind.String)
        {
            errors[name] = ["Must be a string."];
            return null;
        }
        var value = element.GetString()!.Trim();
        if (value.Length == 0)
        {
            errors[name] = [required ? "Required: must not be empty." : "Must not be empty when given."];
            return null;
        }
        if (value.Length > maxLength)
        {
            errors[name] = [$"At most {maxLength} characters."];
            return null;
        }
        if (value.AsSpan().ContainsAnyInRange('\u0000', '\u001f'))
        {
            errors[name] = ["Must not contain control characters."];
            return null;
        }
        return value;
    }

    private static bool IsPhone(string phone)
    {
        var digits = phone.StartsWith('+') ? phone.AsSpan(1) : phone.AsSpan();
        return digits.Length is >= 6 and <= 15 && !digits.ContainsAnyExceptInRange('0', '9');
    }
}
