using Clearflow.Application.Abstractions;
using Dapper;

namespace Clearflow.Storage;

public abstract partial class SqlStore
{
    private sealed class DailyRunRow
    {
        public string MerchantId { get; set; } = "";
        public string ReportDate { get; set; } = "";
        public long StartedAt { get; set; }
        public long? FinishedAt { get; set; }
        public string? Report { get; set; }
    }

    public Task<bool> TryStartDailyRunAsync(string merchantId, string reportDate, DateTimeOffset now, TimeSpan staleAfter, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var parameters = new { merchantId, reportDate, now = Ms(now), staleBefore = Ms(now - staleAfter) };
            var inserted = await connection.ExecuteAsync(Command(
                "INSERT INTO daily_runs (merchant_id, report_date, started_at) VALUES (@merchantId, @reportDate, @now) ON CONFLICT DO NOTHING",
                parameters, transaction, cancellationToken));
            if (inserted == 1)
            {
                return true;
            }
            // A run that started long ago and never finished died with its node: take it over.
            return await connection.ExecuteAsync(Command(
                """
                UPDATE daily_runs SET started_at = @now
                WHERE merchant_id = @merchantId AND report_date = @reportDate AND finished_at IS NULL AND started_at < @staleBefore
                """, parameters, transaction, cancellationToken)) == 1;
        }, cancellationToken);

    public Task CompleteDailyRunAsync(string merchantId, string reportDate, DateTimeOffset now, string reportJson, OutboxMessage notify, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(Command(
                "UPDATE daily_runs SET finished_at = @now, report = @reportJson WHERE merchant_id = @merchantId AND report_date = @reportDate",
                new { merchantId, reportDate, now = Ms(now), reportJson }, transaction, cancellationToken));
            return await InsertOutboxAsync(connection, transaction, notify, cancellationToken);
        }, cancellationToken);

    public Task<DailyRunRecord?> GetDailyRunAsync(string merchantId, string reportDate, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<DailyRunRow>(Command(
                "SELECT merchant_id, report_date, started_at, finished_at, report FROM daily_runs WHERE merchant_id = @merchantId AND report_date = @reportDate",
                new { merchantId, reportDate }, null, cancellationToken));
            return row is null ? null : new DailyRunRecord(row.MerchantId, row.ReportDate, At(row.StartedAt), At(row.FinishedAt), row.Report);
        }, cancellationToken);

    public abstract Task<IAsyncDisposable?> TryAcquireSingletonAsync(string name, CancellationToken cancellationToken);
}
