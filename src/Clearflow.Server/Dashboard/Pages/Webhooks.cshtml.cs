using Clearflow.Application.Abstractions;
using Clearflow.Application.Dashboard;
using Clearflow.Application.Notifications;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace Clearflow.Server.Dashboard.Pages;

[Authorize(Policy = DashboardAuth.ViewerPolicy)]
public sealed class WebhooksModel(ManageWebhookEndpoint endpoints, IDashboardStore store, OperatorActions actions) : DashboardPage
{
    public IReadOnlyList<WebhookEndpointView> Endpoints { get; private set; } = [];
    public IReadOnlyList<DeliveryRecord> Deliveries { get; private set; } = [];

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostReplayAsync(string? deliveryId, CancellationToken cancellationToken) =>
        await AfterAsync(await actions.ReplayDeliveryAsync(Operator, deliveryId ?? "", cancellationToken), "Replay", () => LoadAsync(cancellationToken));

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Endpoints = await endpoints.ListAsync(Operator.MerchantId, cancellationToken);
        Deliveries = await store.ListRecentDeliveriesAsync(Operator.MerchantId, 100, cancellationToken);
    }
}
