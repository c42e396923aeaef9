using System.Security.Claims;
using System.Text.Encodings.Web;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Customers;
using Clearflow.Application.Merchants;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Clearflow.Server.Http;

/// <summary>
/// <c>Authorization: Bearer ...</c> with either a merchant secret key (<c>sk_test_...</c>, <c>sk_live_...</c>)
/// or an order's client secret (<c>ord_..._secret_...</c>), which reads that one order and nothing else.
/// </summary>
public sealed class ApiKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AuthenticateApiKey authenticate, CustomerTokens customerTokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string MerchantIdClaim = "merchant_id";
    public const string ClientSecretClaim = "client_secret";
    public const string MerchantPolicy = "merchant";
    public const string OrderReaderPolicy = "order_reader";
    public const string CustomerPolicy = "customer";
    public const string CustomerMerchantClaim = "customer_merchant_id";
    public const string CustomerIdClaim = "customer_id";

    /// <summary>
    /// Present when the key was taken from this process's known keys without reading it now (ADR 22): its hash, which the
    /// endpoint's write must check. Only on endpoints marked <see cref="ApiKeyCheckedInWrite"/>.
    /// </summary>
    public const string UncheckedKeyHashClaim = "unchecked_key_hash";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        string? token = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }
        else if (Request.Query.TryGetValue("client_secret", out var fromQuery))
        {
            // Browsers' EventSource cannot set headers; a client secret may come in the query instead.
            token = fromQuery.ToString();
        }
        if (string.IsNullOrEmpty(token))
        {
            return AuthenticateResult.NoResult();
        }

        if (token.StartsWith("sk_", StringComparison.Ordinal))
        {
            // An endpoint that checks the key in the command that writes (ADR 22) takes a key this process has seen
            // valid without reading it now: whose it is and its mode never change, and revocation is what its write checks.
            if (Context.GetEndpoint()?.Metadata.GetMetadata<ApiKeyCheckedInWrite>() is not null && authenticate.Known(token) is { } known)
            {
                return MerchantKey(known, new Claim(UncheckedKeyHashClaim, known.KeyHash));
            }
            var key = await authenticate.HandleAsync(token, Context.RequestAborted);
            return key is null ? AuthenticateResult.Fail("The API key is not valid.") : MerchantKey(key);
        }
        if (token.StartsWith(CustomerTokens.Prefix, StringComparison.Ordinal))
        {
            var holder = await customerTokens.VerifyAsync(token, Context.RequestAborted);
            if (holder is null)
            {
                return AuthenticateResult.Fail("The customer token is not valid or has expired; ask the merchant's backend for a new one.");
            }
            // Distinct claim names: a customer token can never satisfy the merchant policy.
            var identity = new ClaimsIdentity([new Claim(CustomerMerchantClaim, holder.MerchantId), new Claim(CustomerIdClaim, holder.CustomerId)], SchemeName);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
        }
        if (token.Contains("_secret_", StringComparison.Ordinal))
        {
            // Checked against the order itself by the use case (constant-time); here it is only carried.
            var identity = new ClaimsIdentity([new Claim(ClientSecretClaim, token)], SchemeName);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
        }
        // Not a token of this scheme (the sandbox gateway's calls carry their own): no result rather than a failure,
        // so it is not logged as a failed sign-in on every such request. Wrong secret keys still fail (and are logged).
        return AuthenticateResult.NoResult();
    }

    private static AuthenticateResult MerchantKey(ApiKeyRecord key, params Claim[] more)
    {
        var identity = new ClaimsIdentity([new Claim(MerchantIdClaim, key.MerchantId), new Claim("key_id", key.Id), new Claim("mode", key.Mode), .. more], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = Context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message;
        return ProblemResults.WriteAsync(Context, Problem.Unauthenticated(
            failure ?? "Send 'Authorization: Bearer sk_test_...' with your secret key (or an order's client secret to read that order)."));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ProblemResults.WriteAsync(Context, new Problem(403, "forbidden", "Not allowed with this credential.",
            "A client secret reads only its own order and a customer token only its customer's payments. This operation needs the merchant's secret key."));
}

/// <summary>
/// Marks an endpoint whose use case checks a known API key in the same command as its write (ADR 22), so authentication
/// may take the key's identity from this process's known keys without a read. Only for endpoints that write first.
/// </summary>
public sealed class ApiKeyCheckedInWrite
{
    public static readonly ApiKeyCheckedInWrite Instance = new();

    private ApiKeyCheckedInWrite() { }
}
