using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Gateways.Sandbox;

namespace Clearflow.Server.Sandbox;

/// <summary>Wakes the sender as soon as a checkout queued webhooks.</summary>
public sealed class SandboxWebhookSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try { _signal.Release(); } catch (SemaphoreFullException) { /* already signalled */ }
        }
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// The sandbox gateway's webhook delivery: at least once, in sequence order, retried with backoff on
/// anything but 2xx (like real gateways), giving up after <see cref="MaxAttempts"/>. Like a real gateway it
/// sends to many payments at once; one payment's events go one after another.
/// </summary>
public sealed class SandboxWebhookSender(IServiceScopeFactory scopes, IHttpClientFactory httpClients, SandboxWebhookSignal signal, TimeProvider clock, ILogger<SandboxWebhookSender> logger)
    : BackgroundService
{
    public const int MaxAttempts = 4;

    /// <summary>Webhooks claimed per round, and how many payments' webhooks are in flight at once.</summary>
    private const int BatchSize = 100, Concurrency = 8;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await DeliverDueAsync(stoppingToken) < BatchSize)
                {
                    await signal.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Sandbox webhook delivery round failed");
                await Task.Delay(TimeSpan.FromSeconds(1), clock, stoppingToken);
            }
        }
    }

    /// <summary>One round; returns how many webhooks it claimed.</summary>
    private async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var store = scope.ServiceProvider.GetRequiredService<ISandboxStore>();
        var account = scope.ServiceProvider.GetRequiredService<SandboxAccount>();
        var due = await store.ClaimDueSandboxWebhooksAsync(clock.GetUtcNow(), TimeSpan.FromSeconds(30), BatchSize, cancellationToken);
        var secret = await account.WebhookSecretAsync(cancellationToken);
        var http = httpClients.CreateClient(nameof(SandboxWebhookSender));
        // The round's records written together (ADR 20): sends to Clearflow end close together.
        var records = new GroupCommit<SandboxDelivery>(async (deliveries, ct) =>
        {
            await store.RecordSandboxDeliveriesAsync(deliveries, ct);
            return new Exception?[deliveries.Count];
        }, cancellationToken);
        // A claim gives each payment's events in their sequence; grouping keeps that order within this round. Two nodes'
        // senders may split one payment's events between them: real gateways promise no order either, and Clearflow
        // does not depend on one (a late or repeated event is decided on the order's status).
        await Parallel.ForEachAsync(due.GroupBy(w => w.OrderId), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken },
            async (payment, _) =>
            {
                foreach (var webhook in payment)
                {
                    await DeliverAsync(webhook, records, http, secret, cancellationToken);
                }
            });
        return due.Count;
    }

    private async Task DeliverAsync(SandboxWebhookRecord webhook, GroupCommit<SandboxDelivery> records, HttpClient http, string secret, CancellationToken cancellationToken)
    {
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        var signature = SandboxProtocol.SignWebhook(webhook.SignCorrectly ? secret : "not-the-webhook-secret", timestamp, webhook.Body);
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.NotifyUrl) { Content = new ByteArrayContent(webhook.Body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add(SandboxProtocol.EventIdHeader, webhook.EventId);
        request.Headers.Add(SandboxProtocol.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(SandboxProtocol.SignatureHeader, signature);
        int? status = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await http.SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Sandbox webhook {DeliveryId} not delivered: {Error}", webhook.DeliveryId, ex.Message);
        }
        var now = clock.GetUtcNow();
        if (status is >= 200 and < 300)
        {
            await records.WriteAsync(new SandboxDelivery(webhook.DeliveryId, status, now, null));
        }
        else
        {
            var retryAt = webhook.Attempts >= MaxAttempts ? DateTimeOffset.MaxValue : now.AddSeconds(Math.Pow(3, webhook.Attempts));
            await records.WriteAsync(new SandboxDelivery(webhook.DeliveryId, status, null, retryAt));
        }
    }
}
