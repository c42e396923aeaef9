using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Gateways.Sandbox;

namespace Clearflow.Server.Sandbox;

/// <summary>How the sandbox should misbehave when sending this checkout's webhooks.</summary>
public enum SandboxWebhookBehaviour
{
    /// <summary>One correctly signed webhook.</summary>
    Normal,
    /// <summary>The same event (same event id) delivered twice.</summary>
    Duplicate,
    /// <summary>The final event first, then an older "pending" event.</summary>
    OutOfOrder,
    /// <summary>No webhook at all: only the callback and status queries can tell.</summary>
    None,
    /// <summary>Signed with the wrong secret: Clearflow must refuse it.</summary>
    BadSignature,
}

/// <summary>
/// The customer finishing the sandbox checkout (by the page's buttons or a script's POST). Records the
/// outcome and queues the webhooks in one transaction (leased to this node's sender, which is handed them), then hands
/// back the signed return URL.
/// </summary>
public sealed class CompleteSandboxCheckout(ISandboxStore store, NewSandboxOrders newOrders, SandboxAccount account, SandboxWebhookSignal signal, TimeProvider clock)
{
    /// <param name="AfterChecks">with outcome "pending": settle to <paramref name="Then"/> after this many status queries (no webhook for that, as if it were lost)</param>
    public sealed record Request(string Outcome, SandboxWebhookBehaviour Webhook, long? ReportAmount, int AfterChecks = 0, string? Then = null);

    public sealed record Completed(string Status, string RedirectUrl);

    public static Result<Request> Validate(string? outcome, string? webhook, long? reportAmount, int? afterChecks = null, string? then = null)
    {
        if (then is not null || afterChecks is not null)
        {
            if (outcome != "pending" || then is not ("success" or "failure") || afterChecks is not (>= 1 and <= 1000))
            {
                return Problem.Validation("then", "'then' (success or failure) and 'after_checks' (1-1000) go together, with outcome 'pending'.");
            }
        }
        if (outcome is not ("success" or "failure" or "pending"))
        {
            return Problem.Validation("outcome", "Must be 'success', 'failure' or 'pending'.");
        }
        var behaviour = SandboxWebhookBehaviour.Normal;
        if (!string.IsNullOrEmpty(webhook) && !Enum.TryParse(webhook.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out behaviour))
        {
            return Problem.Validation("webhook", "Must be one of normal, duplicate, out_of_order, none, bad_signature.");
        }
        if (reportAmount is <= 0)
        {
            return Problem.Validation("report_amount", "Must be a positive integer of minor units.");
        }
        return new Request(outcome, behaviour, reportAmount, afterChecks ?? 0, then);
    }

    public async Task<Result<Completed>> HandleAsync(string sandboxOrderId, Request request, CancellationToken cancellationToken)
    {
        // An order this process created: completed on that copy if it is still as created, without reading it.
        if (newOrders.Take(sandboxOrderId) is { } created && await TryCompleteAsync(created, request, onlyIfNew: true, cancellationToken) is { } completed)
        {
            return completed;
        }
        var order = await store.GetSandboxOrderAsync(sandboxOrderId, cancellationToken);
        if (order is null)
        {
            return new Problem(404, "not-found", "Sandbox order not found.", $"No sandbox order '{sandboxOrderId}'.");
        }
        return await TryCompleteAsync(order, request, onlyIfNew: false, cancellationToken) is { } done
            ? done
            : Problem.Conflict("checkout-already-completed", $"Sandbox order {order.Id} is already {order.Status}.");
    }

    /// <summary>Records the outcome and queues the webhooks; null when the order was no longer open (or, <paramref name="onlyIfNew"/>, no longer as created).</summary>
    private async Task<Completed?> TryCompleteAsync(SandboxOrderRecord order, Request request, bool onlyIfNew, CancellationToken cancellationToken)
    {
        var status = request.Outcome switch { "success" => "succeeded", "failure" => "failed", _ => "pending" };
        var now = clock.GetUtcNow();
        var paymentId = order.PaymentId ?? "sbx_pay_" + Secrets.RandomToken(20);
        var amount = request.ReportAmount ?? order.Amount;

        var webhooks = new List<SandboxWebhookRecord>();
        SandboxWebhookRecord Event(string eventStatus, int sequence, DateTimeOffset createdAt, bool signCorrectly, string? eventId = null)
        {
            var id = eventId ?? "sbx_evt_" + Secrets.RandomToken(20);
            var body = Json.Serialize(new SandboxProtocol.WebhookBody(id, "payment." + eventStatus, createdAt.ToUnixTimeSeconds(),
                new SandboxProtocol.WebhookData(order.Id, paymentId, order.MerchantReference, eventStatus, amount, order.Currency)));
            return new SandboxWebhookRecord("sbx_dlv_" + Secrets.RandomToken(20), id, order.Id, sequence, "payment." + eventStatus,
                System.Text.Encoding.UTF8.GetBytes(body), signCorrectly, order.NotifyUrl, now + SandboxWebhookSender.Lease, Attempts: 1, null, null);
        }
        switch (request.Webhook)
        {
            case SandboxWebhookBehaviour.Normal:
                webhooks.Add(Event(status, 0, now, true));
                break;
            case SandboxWebhookBehaviour.Duplicate:
                var first = Event(status, 0, now, true);
                webhooks.Add(first);
                webhooks.Add(Event(status, 1, now, true, first.EventId));
                break;
            case SandboxWebhookBehaviour.OutOfOrder:
                webhooks.Add(Event(status, 0, now, true));
                if (status != "pending")
                {
                    webhooks.Add(Event("pending", 1, now.AddSeconds(-5), true));
                }
                break;
            case SandboxWebhookBehaviour.BadSignature:
                webhooks.Add(Event(status, 0, now, false));
                break;
            case SandboxWebhookBehaviour.None:
                break;
        }

        var eventual = request.Then switch { "success" => "succeeded", "failure" => "failed", _ => null };
        var completion = new SandboxCompletion(order.Id, status, paymentId, request.ReportAmount, now, request.AfterChecks, eventual) { OnlyIfNew = onlyIfNew };
        // Not cancelled half-way: a completion committed for a customer who went away must still hand its webhooks over,
        // or they would wait for their lease.
        if (!await store.CompleteSandboxCheckoutAsync(completion, webhooks, CancellationToken.None))
        {
            return null;
        }
        // Stored leased to this node's sender, which sends them now without claiming them.
        signal.Notify(webhooks);

        var secret = await account.CallbackSecretAsync(cancellationToken);
        var separator = order.ReturnUrl.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        var redirect = $"{order.ReturnUrl}{separator}sandbox_order_id={Uri.EscapeDataString(order.Id)}&sandbox_status={status}" +
                       $"&sandbox_signature={SandboxProtocol.SignCallback(secret, order.Id, status)}";
        return new Completed(status, redirect);
    }
}
