using System.Security.Claims;
using Clearflow.Application.Merchants;
using Clearflow.Application.Reports;
using Clearflow.Server.Http;

namespace Clearflow.Server.Endpoints;

/// <summary>The merchant's own settings and reports.</summary>
public static class MerchantApi
{
    public const int MaxSettingsBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapMerchantApi(this IEndpointRouteBuilder routes)
    {
        var merchant = routes.MapGroup("/v1").RequireAuthorization(ApiKeyAuthentication.MerchantPolicy);
        merchant.MapGet("/merchant/settings", GetSettingsAsync).WithTags("Merchant")
            .WithSummary("Read the merchant's settings: gateways, status-check schedules, end-of-day time")
            .Produces<MerchantSettings>();
        merchant.MapPut("/merchant/settings", UpdateSettingsAsync).WithTags("Merchant")
            .WithSummary("Replace the merchant's settings; every field is validated before anything is saved")
            .WithDescription("""
                Durations are strings `d.hh:mm:ss`. `status_checks`: `intervals` (e.g. ["00:01:00","00:05:00"]), `repeat_every` ("00:15:00"),
                `max_age` ("2.00:00:00"), `expire_unpaid_after` ("00:30:00"); `gateway_status_checks` overrides them per gateway.
                `end_of_day`: `cron` (five fields, e.g. "30 23 * * *") and `time_zone` (IANA, e.g. "Asia/Kolkata").
                """)
            .WithMetadata(new Http.OpenApi.RequestBodyDoc(typeof(MerchantSettings)))
            .Produces<MerchantSettings>().ProducesProblem(400).ProducesProblem(422);
        merchant.MapGet("/reports/daily/{date}", GetDailyReportAsync).WithTags("Reports")
            .WithSummary("The end-of-day report of a local date (yyyy-MM-dd): totals by status and every order still not final")
            .Produces<DailyReport>().ProducesProblem(404).ProducesProblem(422);
        merchant.MapGet("/ledger/verify", VerifyLedgerAsync).WithTags("Ledger")
            .WithSummary("Check the books: every ledger transaction balances, and every order's postings agree with its status and amounts")
            .Produces<Application.Ledger.VerifyLedger.Verification>();
        merchant.MapGet("/ledger/entries", LedgerEntriesAsync).WithTags("Ledger")
            .WithSummary("The merchant's ledger postings (debits positive, credits negative), optionally for one order (?order_id=)");
        return routes;
    }

    private static async Task<IResult> VerifyLedgerAsync(ClaimsPrincipal user, Application.Ledger.VerifyLedger verify, CancellationToken cancellationToken) =>
        TypedResults.Ok(await verify.HandleAsync(MerchantId(user), cancellationToken));

    private static async Task<IResult> LedgerEntriesAsync([Microsoft.AspNetCore.Mvc.FromQuery(Name = "order_id")] string? orderId, ClaimsPrincipal user, Application.Abstractions.ILedgerStore ledger, CancellationToken cancellationToken)
    {
        var entries = await ledger.ListLedgerEntriesAsync(MerchantId(user), orderId, cancellationToken);
        return TypedResults.Ok(entries.Select(e => new { e.TransactionId, e.OrderId, e.Account, e.Amount, e.Currency, e.Kind, e.CreatedAt }));
    }

    private static string MerchantId(ClaimsPrincipal user) => user.FindFirstValue(ApiKeyAuthentication.MerchantIdClaim)!;

    private static async Task<IResult> GetSettingsAsync(ClaimsPrincipal user, GetMerchantSettings getSettings, CancellationToken cancellationToken) =>
        TypedResults.Ok(await getSettings.HandleAsync(MerchantId(user), cancellationToken));

    private static async Task<IResult> UpdateSettingsAsync(HttpRequest request, ClaimsPrincipal user, UpdateMerchantSettings update, CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await RawBody.ReadAsync(request, MaxSettingsBytes, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge.ToResult();
        }
        var result = await update.HandleAsync(MerchantId(user), body, cancellationToken);
        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Error!.ToResult();
    }

    private static async Task<IResult> GetDailyReportAsync(string date, ClaimsPrincipal user, GetDailyReport getReport, CancellationToken cancellationToken)
    {
        var result = await getReport.HandleAsync(MerchantId(user), date, cancellationToken);
        return result.IsSuccess ? TypedResults.Text(result.Value!, "application/json; charset=utf-8") : result.Error!.ToResult();
    }
}
