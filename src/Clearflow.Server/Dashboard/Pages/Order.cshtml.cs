using Clearflow.Application.Common;
using Clearflow.Application.Dashboard;
using Clearflow.Domain.Money;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace Clearflow.Server.Dashboard.Pages;

[Authorize(Policy = DashboardAuth.ViewerPolicy)]
public sealed class OrderModel(GetOrderDetail detail, OperatorActions actions) : DashboardPage
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    public GetOrderDetail.Detail? Detail { get; private set; }

    /// <summary>Minted when the refund form is shown: submitting the same form twice refunds once.</summary>
    public string RefundKey { get; private set; } = "";

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostRecheckAsync(CancellationToken cancellationToken) =>
        await AfterAsync(await actions.RecheckAsync(Operator, Id, cancellationToken), "Re-checked", () => LoadAsync(cancellationToken));

    public async Task<IActionResult> OnPostRetryFulfilmentAsync(CancellationToken cancellationToken) =>
        await AfterAsync(await actions.RetryFulfilmentAsync(Operator, Id, cancellationToken), "Fulfilment", () => LoadAsync(cancellationToken));

    public async Task<IActionResult> OnPostResolveAsync(string? outcome, string? note, CancellationToken cancellationToken) =>
        await AfterAsync(await actions.ResolveReviewAsync(Operator, Id, outcome, note, cancellationToken), "Review resolved", () => LoadAsync(cancellationToken));

    public async Task<IActionResult> OnPostReplayAsync(string? deliveryId, CancellationToken cancellationToken) =>
        await AfterAsync(await actions.ReplayDeliveryAsync(Operator, deliveryId ?? "", cancellationToken), "Replay", () => LoadAsync(cancellationToken));

    public async Task<IActionResult> OnPostRefundAsync(string? amount, string? reason, string? refundKey, CancellationToken cancellationToken)
    {
        var order = await detail.HandleAsync(Operator.MerchantId, Id, cancellationToken);
        long? minor = null;
        if (order.IsSuccess && !string.IsNullOrWhiteSpace(amount))
        {
            if (!Currency.TryParse(order.Value!.Order.Currency, out var currency) || !MoneyFormat.TryParseMajorUnits(amount, currency, out var parsed) || parsed == 0)
            {
                return await AfterAsync(Problem.Validation("amount", $"An amount in {order.Value!.Order.Currency} like 120.50 (at most the currency's decimals), or empty for all that is left."),
                    "", () => LoadAsync(cancellationToken));
            }
            minor = parsed;
        }
        var result = await actions.RefundAsync(Operator, Id, minor, reason, string.IsNullOrWhiteSpace(refundKey) ? Guid.NewGuid().ToString("N") : refundKey,
            cancellationToken);
        return await AfterAsync(result, "Refund requested", () => LoadAsync(cancellationToken));
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        RefundKey = Guid.NewGuid().ToString("N");
        var result = await detail.HandleAsync(Operator.MerchantId, Id, cancellationToken);
        Detail = result.Value;
        if (!result.IsSuccess && Response.StatusCode < 400)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }
}
