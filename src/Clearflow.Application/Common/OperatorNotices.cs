using Clearflow.Application.Abstractions;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Common;

/// <summary>
/// Messages for the merchant's operators, queued in the outbox with the change that causes them.
/// Delivery (email, merchant webhooks) is the notification dispatcher's job.
/// </summary>
public static class OperatorNotices
{
    public const string RequiresReviewTopic = "operator.order_requires_review";
    public const string DailyReportTopic = "operator.daily_report";

    public static OutboxMessage RequiresReview(OrderRecord order, string reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(order);
        return new OutboxMessage("obx_" + Secrets.RandomToken(20), order.MerchantId, order.Id, RequiresReviewTopic,
            // One notice per order entering review: a retried transition hits the unique key.
            DedupeKey: $"{RequiresReviewTopic}:{order.Id}:{order.UpdatedAt.ToUnixTimeMilliseconds()}",
            Json.Serialize(new { order_id = order.Id, receipt = order.Receipt, amount = order.Amount, currency = order.Currency, previous_status = order.Status.ToWire(), reason }),
            now);
    }

    public static OutboxMessage DailyReport(string merchantId, string reportDate, string summary, DateTimeOffset now) =>
        new("obx_" + Secrets.RandomToken(20), merchantId, null, DailyReportTopic, $"{DailyReportTopic}:{merchantId}:{reportDate}",
            Json.Serialize(new { report_date = reportDate, summary, url = $"/v1/reports/daily/{reportDate}" }), now);
}
