using System.Text;
using Clearflow.Application.Checks;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;
using Clearflow.Application.Notifications;
using Clearflow.Application.Refunds;

namespace Clearflow.Application.Dashboard;

/// <summary>
/// What a dashboard user can do, each through the same use case the API uses, each gated by role and
/// audited. The dashboard hides buttons a role cannot use, but the refusal here is what protects.
/// </summary>
public sealed class OperatorActions(AuditedAction audited, RecheckOrder recheck, CreateRefund refund, RetryFulfilment retry, ResolveReview resolve,
    DeliveryHistory deliveries, UpdateMerchantSettings settings, IssueApiKey issueKey, RevokeApiKey revokeKey, CreateDashboardUser createUser)
{
    public Task<Result<string>> RecheckAsync(OperatorIdentity who, string orderId, CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Operator, "order.recheck", orderId, null, async () =>
        {
            var result = await recheck.HandleAsync(who.MerchantId, orderId, cancellationToken);
            return result.IsSuccess ? Result<string>.Ok($"the gateway was asked; the order is {result.Value!.Status}") : result.Error!;
        });

    /// <param name="idempotencyKey">Minted when the form was shown, so a double submit refunds once.</param>
    public Task<Result<string>> RefundAsync(OperatorIdentity who, string orderId, long? amount, string? reason, string idempotencyKey,
        CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Operator, "order.refund", orderId, reason, async () =>
        {
            if (AuditedAction.RequireReason(reason) is { } missing)
            {
                return missing;
            }
            var body = Json.Serialize(new Dictionary<string, object?> { ["amount"] = amount, ["reason"] = reason!.Trim() });
            var result = await refund.HandleAsync(who.MerchantId, orderId, "dashboard:" + idempotencyKey, Encoding.UTF8.GetBytes(body), cancellationToken);
            return result.IsSuccess
                ? Result<string>.Ok($"refund {result.Value!.Refund.Id} of {result.Value.Refund.Amount} {result.Value.Refund.Currency} is {result.Value.Refund.Status}")
                : result.Error!;
        });

    public Task<Result<string>> RetryFulfilmentAsync(OperatorIdentity who, string orderId, CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Operator, "order.retry_fulfilment", orderId, null, () => retry.HandleAsync(who, orderId, cancellationToken));

    public Task<Result<string>> ResolveReviewAsync(OperatorIdentity who, string orderId, string? outcome, string? note, CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Operator, "order.resolve_review:" + outcome, orderId, note,
            () => resolve.HandleAsync(who, orderId, outcome, note, cancellationToken));

    public Task<Result<string>> ReplayDeliveryAsync(OperatorIdentity who, string deliveryId, CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Operator, "delivery.replay", deliveryId, null, async () =>
        {
            var result = await deliveries.ReplayAsync(who.MerchantId, deliveryId, cancellationToken);
            return result.IsSuccess ? Result<string>.Ok("the delivery is queued to be sent again") : result.Error!;
        });

    public Task<Result<string>> UpdateSettingsAsync(OperatorIdentity who, string settingsJson, CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Admin, "settings.update", who.MerchantId, null, async () =>
        {
            var result = await settings.HandleAsync(who.MerchantId, Encoding.UTF8.GetBytes(settingsJson), cancellationToken);
            return result.IsSuccess ? Result<string>.Ok("settings saved") : result.Error!;
        });

    /// <returns>The new secret key, shown once.</returns>
    public Task<Result<string>> IssueApiKeyAsync(OperatorIdentity who, string mode, CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Admin, "api_key.issue:" + mode, who.MerchantId, null, async () =>
        {
            var result = await issueKey.HandleAsync(who.MerchantId, mode, cancellationToken);
            return result.IsSuccess ? Result<string>.Ok(result.Value!.SecretKey) : result.Error!;
        });

    public Task<Result<string>> RevokeApiKeyAsync(OperatorIdentity who, string keyId, string? reason, CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Admin, "api_key.revoke", keyId, reason, () => revokeKey.HandleAsync(who.MerchantId, keyId, cancellationToken));

    public Task<Result<string>> CreateUserAsync(OperatorIdentity who, string? email, string? role, string? password, CancellationToken cancellationToken) =>
        audited.RunAsync(who, DashboardRoles.Admin, "user.create:" + role, email, null, async () =>
        {
            var result = await createUser.HandleAsync(who.MerchantId, email, role, password, cancellationToken);
            return result.IsSuccess ? Result<string>.Ok($"{result.Value!.Email} can now sign in as {result.Value.Role}") : result.Error!;
        });
}
