using System.Collections.Concurrent;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Gateways.Sandbox;

namespace Clearflow.Server.Sandbox;

/// <summary>
/// Hands the sender the webhooks a checkout stored leased to it, and wakes it: it sends them without claiming them
/// (as ADR 17 does for Clearflow's own deliveries). Held in memory only: if the process stops first, they are claimed
/// when their lease ends.
/// </summary>
public sealed class SandboxWebhookSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly ConcurrentQueue<SandboxWebhookRecord> _leased = new();

    /// <summary>One checkout's webhooks, in their sequence.</summary>
    public void Notify(IReadOnlyList<SandboxWebhookRecord> leased)
    {
        foreach (var webhook in leased)
        {
            _leased.Enqueue(webhook);
        }
        if (_signal.CurrentCount == 0)
        {
            try { _signal.Release(); } catch (SemaphoreFullException) { /* already signalled */ }
        }
    }

    /// <summary>Up to <paramref name="limit"/> webhooks handed over, in the order they came.</summary>
    public List<SandboxWebhookRecord> TakeLeased(int limit)
    {
        var taken = new List<SandboxWebhookRecord>();
        while (taken.Count < limit && _leased.TryDequeue(out var webhook))
        {
            taken.Add(webhook);
        }
        return taken;
    }

    public bool AnyLeased => !_leased.IsEmpty;

    /// <summary>False when the timeout passed without a hand-over.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
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

    /// <summary>How long a claim, or a checkout that stores its webhooks for this node's sender, holds them.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>Webhooks claimed per round, and how many payments' webhooks are in flight at once.</summary>
    private const int BatchSize = 100, Concurrency = 8;

    /// <summary>How often due webhooks (retries, those another node left) are claimed while checkouts keep the sender busy.</summary>
    private static readonly TimeSpan ClaimInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>A send takes at most <see cref="SendTimeout"/>; one whose lease has less than <see cref="LeaseLeftToSend"/> left waits for the claim after the lease.</summary>
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5), LeaseLeftToSend = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long? claimedAt = null;
        var idle = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Due webhooks are claimed in every round the timer starts, and at most every ClaimInterval while checkouts
                // hand webhooks over (their rounds send those without a claim).
                var claim = idle || claimedAt is not { } last || clock.GetElapsedTime(last) >= ClaimInterval;
                if (claim)
                {
                    claimedAt = clock.GetTimestamp();
                }
                idle = false;
                if (await DeliverAsync(claim, stoppingToken) < BatchSize && !signal.AnyLeased)
                {
                    idle = !await signal.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
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

    /// <summary>One round: the due webhooks if <paramref name="claim"/>, and those handed over; returns how many it claimed.</summary>
    private async Task<int> DeliverAsync(bool claim, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var store = scope.ServiceProvider.GetRequiredService<ISandboxStore>();
        var account = scope.ServiceProvider.GetRequiredService<SandboxAccount>();
        var claimed = claim ? await store.ClaimDueSandboxWebhooksAsync(clock.GetUtcNow(), Lease, BatchSize, cancellationToken) : [];
        var secret = await account.WebhookSecretAsync(cancellationToken);
        // Taken last, so that a failed claim or secret read drops none of them.
        var due = claimed.Concat(signal.TakeLeased(BatchSize)).ToList();
        if (due.Count == 0)
        {
            return 0;
        }
        var http = httpClients.CreateClient(nameof(SandboxWebhookSender));
        // The round's records written together (ADR 20): sends to Clearflow end close together.
        var records = new GroupCommit<SandboxDelivery>(async (deliveries, ct) =>
        {
            await store.RecordSandboxDeliveriesAsync(deliveries, ct);
            return new Exception?[deliveries.Count];
        }, cancellationToken);
        // Each payment's events go in their sequence within the round. Two nodes' senders may split one payment's events
        // between them: real gateways promise no order either, and Clearflow does not depend on one (a late or repeated
        // event is decided on the order's status).
        await Parallel.ForEachAsync(due.GroupBy(w => w.OrderId), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken },
            async (payment, _) =>
            {
                foreach (var webhook in payment.OrderBy(w => w.Sequence))
                {
                    // A send must end within its lease (AvailableAt, for a claimed webhook and a handed one alike), or the claim
                    // after the lease would send it again meanwhile. Checked at its turn: a long round uses up leases. The
                    // payment's later events wait with it, to keep their order.
                    if (clock.GetUtcNow() > webhook.AvailableAt - LeaseLeftToSend)
                    {
                        break;
                    }
                    await SendAsync(webhook, records, http, secret, cancellationToken);
                }
            });
        return claimed.Count;
    }

    private async Task SendAsync(SandboxWebhookRecord webhook, GroupCommit<SandboxDelivery> records, HttpClient http, string secret, CancellationToken cancellationToken)
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
            timeout.CancelAfter(SendTimeout);
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
            await records.WriteAsync(new SandboxDelivery(webhook.DeliveryId, webhook.Attempts, status, now, null));
        }
        else
        {
            var retryAt = webhook.Attempts >= MaxAttempts ? DateTimeOffset.MaxValue : now.AddSeconds(Math.Pow(3, webhook.Attempts));
            await records.WriteAsync(new SandboxDelivery(webhook.DeliveryId, webhook.Attempts, status, null, retryAt));
        }
    }
}
