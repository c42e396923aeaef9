using Clearflow.Application.Abstractions;
using Microsoft.AspNetCore.Authorization;

namespace Clearflow.Server.Dashboard.Pages;

[Authorize(Policy = DashboardAuth.ViewerPolicy)]
public sealed class AuditModel(IDashboardStore store) : DashboardPage
{
    public IReadOnlyList<AuditRecord> Entries { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Entries = await store.ListAuditAsync(Operator.MerchantId, null, 500, cancellationToken);
}
