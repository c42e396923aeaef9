using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Orders.CreateOrder;

/// <summary>
/// <c>POST /v1/orders</c>: records the order, creates the payment at the gateway and answers with
/// what the customer's app needs to open the checkout.
/// <para>
/// Safe to retry: the Idempotency-Key is claimed under a primary key before anything else, and a
/// request that died half-way (after the order row, before the gateway answered) is resumed by the
/// next request with the same key, which finds the order by its receipt and asks the gateway again
/// with the same gateway idempotency key.
/// </para>
/// </summary>
public sealed class CreateOrder(IClearflowStore store, IGatewayRegistry gateways, Gateways.GatewayHealth health, IPublicUrls urls, IdGenerator ids, TimeProvider clock)
{
    /// <summary>How long a key is remembered. Stripe keeps 24 h; merchants retry across days.</summary>
    public static readonly TimeSpan KeyRetention = TimeSpan.FromDays(7);

    /// <summary>After this, a claim left by a crashed request is taken over.</summary>
    public static readonly TimeSpan KeyLock = TimeSpan.FromSeconds(60);

    /// <summary>What to send back: the stored body is replayed byte for byte for a repeated key.</summary>
    public sealed record Reply(int StatusCode, string Body, bool Replayed);

    public sealed record CheckoutView(string Id, string Object, string Status, long Amount, string Currency, string Receipt,
        string Gateway, IReadOnlyDictionary<string, string> Checkout, string ClientSecret, DateTimeOffset CreatedAt);

    public async Task<Result<Reply>> HandleAsync(string merchantId, string? idempotencyKey, CreateOrderRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey))
        {
            return Problem.BadRequest("idempotency-key-required",
                "Send an Idempotency-Key header (any unique string up to 255 characters, e.g. a UUID) so a retried request cannot create a second order.");
        }
        if (idempotencyKey.Length > 255)
        {
            return Problem.BadRequest("idempotency-key-too-long", "The Idempotency-Key header is limited to 255 characters.");
        }

        // The key first: a retry of a finished request gets its stored reply whatever the gateways' health or
        // credentials are now.
        var begin = await store.BeginIdempotentAsync(merchantId, idempotencyKey, request.Fingerprint(), clock.GetUtcNow(), KeyLock, KeyRetention, cancellationToken);
        switch (begin)
        {
            case IdempotencyBegin.Replay replay:
                return new Reply(replay.StatusCode, replay.Body, Replayed: true);
            case IdempotencyBegin.Mismatch:
                return new Problem(422, "idempotency-key-reused", "Idempotency-Key reused with a different request.",
                    "This Idempotency-Key was already used with a different body. Use a new key for a new order.");
            case IdempotencyBegin.InProgress:
                return Problem.Conflict("idempotency-key-in-use",
                    "A request with this Idempotency-Key is being processed right now. Retry after it finishes to get its response.");
        }

        try
        {
            // A success has stored its reply for the key (CreateOrResumeAsync).
            var result = await RouteAndCreateAsync(merchantId, idempotencyKey, request, cancellationToken);
            if (!result.IsSuccess)
            {
                // The request changed nothing the key should pin: let the merchant retry it with the same key.
                await store.ReleaseIdempotentAsync(merchantId, idempotencyKey, CancellationToken.None);
            }
            return result;
        }
        catch
        {
            await store.ReleaseIdempotentAsync(merchantId, idempotencyKey, CancellationToken.None);
            throw;
        }
    }

    private async Task<Result<Reply>> RouteAndCreateAsync(string merchantId, string idempotencyKey, CreateOrderRequest request, CancellationToken cancellationToken)
    {
        var merchant = await store.GetMerchantAsync(merchantId, cancellationToken)
            ?? throw new InvalidOperationException($"Authenticated merchant {merchantId} does not exist.");
        var settings = MerchantSettings.Parse(merchant.SettingsJson);
        var (gatewayName, routingNote, noRoute) = ChooseGateway(request, settings);
        if (noRoute is not null)
        {
            return noRoute;
        }
        if (!settings.Gateways.Contains(gatewayName, StringComparer.Ordinal) || !gateways.Names.Contains(gatewayName))
        {
            return Problem.Validation("gateway", $"Gateway '{gatewayName}' is not enabled for this merchant. Enabled: {string.Join(", ", settings.Gateways)}.");
        }
        var gateway = await gateways.ResolveAsync(merchantId, gatewayName, cancellationToken);
        if (gateway is null)
        {
            return new Problem(422, "gateway-not-configured", "The gateway has no credentials.",
                $"Set this merchant's {gatewayName} credentials first: PUT /v1/merchant/gateways/{gatewayName}/credentials.");
        }
        return await CreateOrResumeAsync(merchantId, idempotencyKey, request, gateway, settings.ScheduleFor(gateway.Name), routingNote, cancellationToken);
    }

    private async Task<Result<Reply>> CreateOrResumeAsync(string merchantId, string idempotencyKey, CreateOrderRequest request, IPaymentGateway gateway,
        Domain.Checks.CheckSchedule schedule, string? routingNote, CancellationToken cancellationToken)
    {
        // Storage keeps milliseconds; the first reply must not show more precision than later reads.
        var now = DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());
        var order = new OrderRecord(
            Id: ids.New(IdPrefixes.Order),
            MerchantId: merchantId,
            Receipt: request.Receipt,
            Amount: request.Amount,
            Currency: request.Currency,
            AmountPaid: 0,
            AmountRefunded: 0,
            Status: OrderStatus.Created,
            StatusReason: null,
            Gateway: gateway.Name,
            Customer: request.Customer,
            MetadataJson: Json.Serialize(request.Metadata),
            ReturnUrl: request.ReturnUrl,
            ClientSecret: string.Empty,
            IdempotencyKey: idempotencyKey,
            CreatedAt: now,
            UpdatedAt: now)
        {
            // Until the customer reaches the gateway the only thing to check for is expiry.
            NextCheckAt = now + schedule.ExpireUnpaidAfter,
        };
        order = order with { ClientSecret = $"{order.Id}_secret_{Secrets.RandomToken(24)}" };

        var created = new TimelineEntry(now, "order.created",
            $"Order created for {request.Amount} {request.Currency} (minor units) via {gateway.Name}{(routingNote is null ? "" : $" ({routingNote})")}.");
        var resumed = !await store.InsertOrderAsync(order, created, OrderNotices.ForStatus(order, OrderStatus.Created, now), cancellationToken);
        if (resumed)
        {
            var existing = await store.FindOrderByReceiptAsync(merchantId, request.Receipt, cancellationToken);
            if (existing is null || existing.IdempotencyKey != idempotencyKey)
            {
                return Problem.Conflict("receipt-already-used",
                    $"Receipt '{request.Receipt}' is already used by order {existing?.Id}. Receipts are unique per merchant.");
            }
            order = existing; // resuming a request with this key that stopped half-way
            if (order.Gateway != gateway.Name)
            {
                // Routing may choose differently now; the order keeps the gateway it was created for.
                gateway = await gateways.ResolveAsync(merchantId, order.Gateway, cancellationToken)
                    ?? throw new InvalidOperationException($"Order {order.Id}'s gateway {order.Gateway} can no longer be resolved.");
            }
        }

        // A new order has no attempt yet; only a resumed one may have got as far as the gateway.
        var attempt = resumed ? (await store.GetAttemptsAsync(order.Id, cancellationToken)).FirstOrDefault() : null;
        if (attempt is null)
        {
            GatewayPayment payment;
            try
            {
                payment = await gateway.CreatePaymentAsync(new CreatePaymentRequest(
                    order.Id,
                    order.Amount,
                    order.Currency,
                    ReturnUrl: new Uri(urls.BaseUri, $"v1/gateways/{gateway.Name}/return?order_id={order.Id}").ToString(),
                    NotifyUrl: new Uri(urls.BaseUri, gateways.FindConnector(gateway.Name) is null
                        ? $"v1/gateways/{gateway.Name}/webhooks" : $"v1/gateways/{gateway.Name}/webhooks/{merchantId}").ToString(),
                    IdempotencyKey: $"{order.Id}-attempt-1") { Customer = order.Customer }, cancellationToken);
                health.RecordSuccess(gateway.Name);
            }
            catch (GatewayUnavailableException ex)
            {
                health.RecordFailure(gateway.Name);
                await store.AppendTimelineAsync(order.Id, new TimelineEntry(clock.GetUtcNow(), "gateway.unavailable", $"Creating the payment at {gateway.Name} failed: {ex.Message}"), CancellationToken.None);
                return new Problem(503, "gateway-unavailable", "The payment gateway did not answer.",
                    $"{gateway.Name} could not be reached to create the payment. Order {order.Id} is kept; retry with the same Idempotency-Key to continue it.");
            }
            catch (GatewayRejectedException ex)
            {
                health.RecordSuccess(gateway.Name); // it answered: up, if unhappy with this request
                await store.AppendTimelineAsync(order.Id, new TimelineEntry(clock.GetUtcNow(), "gateway.rejected", $"{gateway.Name} refused to create the payment: {ex.Message}"), CancellationToken.None);
                return new Problem(502, "gateway-rejected", "The payment gateway refused the payment.", $"{gateway.Name} refused to create the payment: {ex.Message}");
            }

            var at = clock.GetUtcNow();
            attempt = new AttemptRecord(ids.New(IdPrefixes.Attempt), order.Id, gateway.Name, payment.GatewayReference, "created", Json.Serialize(payment.Checkout), at, at);
            var reply = ReplyFor(order, attempt);
            // The reply goes with the attempt: one write instead of two on the path every order takes.
            if (await store.AddAttemptAsync(attempt, new TimelineEntry(at, "gateway.payment_created", $"{gateway.Name} payment {payment.GatewayReference} created.",
                Json.Serialize(new { attempt_id = attempt.Id, gateway_reference = payment.GatewayReference })), at + schedule.DelayAfter(0),
                new IdempotentReply(merchantId, idempotencyKey, reply.StatusCode, reply.Body), cancellationToken))
            {
                return reply;
            }
        }
        // Resumed with its attempt already recorded (or recorded by now): store the reply on its own.
        var resumedReply = ReplyFor(order, attempt);
        await store.CompleteIdempotentAsync(merchantId, idempotencyKey, resumedReply.StatusCode, resumedReply.Body, CancellationToken.None);
        return resumedReply;
    }

    private static Reply ReplyFor(OrderRecord order, AttemptRecord attempt)
    {
        var view = new CheckoutView(order.Id, "order", order.Status.ToWire(), order.Amount, order.Currency, order.Receipt, order.Gateway,
            Json.Deserialize<Dictionary<string, string>>(attempt.CheckoutJson), order.ClientSecret, order.CreatedAt);
        return new Reply(201, Json.Serialize(view), Replayed: false);
    }

    /// <summary>
    /// An order that names its gateway goes there. Otherwise the merchant's routing rules decide, skipping
    /// gateways whose circuit is open; without rules, the default gateway.
    /// </summary>
    private (string Gateway, string? Note, Problem? NoRoute) ChooseGateway(CreateOrderRequest request, MerchantSettings settings)
    {
        if (request.Gateway is { } named)
        {
            return (named, null, null);
        }
        if (settings.Routing.Count == 0)
        {
            return (settings.DefaultGateway, null, null);
        }
        var rules = settings.Routing.Select(r => r.ToRule()).ToArray();
        var (chosen, skipped) = Domain.Gateways.GatewayRouting.Choose(rules, request.Currency, request.Amount, request.PaymentMethod,
            name => gateways.Names.Contains(name) && health.TryAllow(name));
        if (chosen is null)
        {
            return ("", null, skipped.Count == 0
                ? Problem.Validation("gateway", $"No routing rule matches {request.Currency} {request.Amount} (minor units){(request.PaymentMethod is null ? "" : $" by {request.PaymentMethod}")}; name a gateway or add a rule.")
                : new Problem(503, "gateway-unavailable", "Every eligible gateway is failing.",
                    $"The gateways for this order ({string.Join(", ", skipped)}) are failing right now (circuit open). Retry shortly with the same Idempotency-Key."));
        }
        return (chosen, skipped.Count == 0 ? $"routed by rule" : $"routed past failing {string.Join(", ", skipped)}", null);
    }
}
