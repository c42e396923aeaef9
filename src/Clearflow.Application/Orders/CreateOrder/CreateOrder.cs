using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Merchants;
using Clearflow.Domain.Orders;

namespace Clearflow.Application.Orders.CreateOrder;

/// <summary>
/// <c>POST /v1/orders</c>: records the order, creates the payment at the gateway and answers with
/// what the customer's app needs to open the checkout.
/// <para>
/// Safe to retry: the Idempotency-Key is claimed under a primary key before the gateway is called (with the
/// order, in one command, when the key is new; first of all otherwise, ADR 18), and a request that died half-way (after the order row, before the gateway answered) is resumed by the
/// next request with the same key, which finds the order by its receipt and asks the gateway again
/// with the same gateway idempotency key.
/// </para>
/// </summary>
public sealed class CreateOrder(IClearflowStore store, IGatewayRegistry gateways, Gateways.GatewayHealth health, IPublicUrls urls, AuthenticateApiKey apiKeys,
    IdGenerator ids, TimeProvider clock)
{
    /// <summary>
    /// Who asks: the merchant, and the hash of its API key when authentication took the key from the process's known
    /// keys without reading it (ADR 22). Such a key is checked in the command that claims the Idempotency-Key with the
    /// order, or read afresh before the careful path writes anything.
    /// </summary>
    public sealed record Caller(string MerchantId, string? UncheckedKeyHash);

    /// <summary>How long a key is remembered. Stripe keeps 24 h; merchants retry across days.</summary>
    public static readonly TimeSpan KeyRetention = TimeSpan.FromDays(7);

    /// <summary>After this, a claim left by a crashed request is taken over.</summary>
    public static readonly TimeSpan KeyLock = TimeSpan.FromSeconds(60);

    /// <summary>What to send back: the stored body is replayed byte for byte for a repeated key.</summary>
    public sealed record Reply(int StatusCode, string Body, bool Replayed);

    public sealed record CheckoutView(string Id, string Object, string Status, long Amount, string Currency, string Receipt,
        string Gateway, IReadOnlyDictionary<string, string> Checkout, string ClientSecret, DateTimeOffset CreatedAt);

    public async Task<Result<Reply>> HandleAsync(Caller caller, string? idempotencyKey, CreateOrderRequest request, CancellationToken cancellationToken)
    {
        var merchantId = caller.MerchantId;
        if (string.IsNullOrWhiteSpace(idempotencyKey))
        {
            return Problem.BadRequest("idempotency-key-required",
                "Send an Idempotency-Key header (any unique string up to 255 characters, e.g. a UUID) so a retried request cannot create a second order.");
        }
        if (idempotencyKey.Length > 255)
        {
            return Problem.BadRequest("idempotency-key-too-long", "The Idempotency-Key header is limited to 255 characters.");
        }
        var claim = new IdempotencyClaim(merchantId, idempotencyKey, request.Fingerprint(), clock.GetUtcNow(), KeyLock, KeyRetention)
        {
            ApiKeyHash = caller.UncheckedKeyHash,
        };

        // The common case in one command: a new key for a new order on a healthy route (ADR 18).
        if (await TryFirstRequestAsync(claim, request, cancellationToken) is { } first)
        {
            return first;
        }

        // The careful path writes without checking the API key, so a key not read for this request is read now: one
        // revoked since this process saw it stops here (ADR 22).
        if (caller.UncheckedKeyHash is { } keyHash && await apiKeys.ValidAsync(keyHash, cancellationToken) is null)
        {
            return Problem.Unauthenticated("The API key is not valid."); // as authentication says of a key it finds revoked
        }

        // The careful path. The key first: a retry of a finished request gets its stored reply whatever the gateways'
        // health or credentials are now.
        var begin = await store.BeginIdempotentAsync(claim with { At = clock.GetUtcNow() }, cancellationToken);
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
        return await ReleaseKeyUnlessSucceededAsync(merchantId, idempotencyKey, async () =>
        {
            // The route decided now, after the claim: a half-open circuit's trial is taken only by a request that will use it.
            var route = await RouteAsync(merchantId, request, name => gateways.Names.Contains(name) && health.TryAllow(name), cancellationToken);
            if (!route.IsSuccess)
            {
                return route.Error!;
            }
            return await CreateOrResumeAsync(merchantId, idempotencyKey, request, route.Value!, cancellationToken);
        });
    }

    /// <summary>
    /// The first request with its key when nothing stands in the way, in one command for the key and the order. The
    /// route is chosen among closed circuits only, so nothing changes before the write. Null, with nothing written and
    /// no circuit touched, when anything is not ordinary: the key exists (a retry, a replay, a request in progress), the
    /// receipt is taken, or routing has a problem or meets a circuit that is not closed. The careful path then decides
    /// exactly as if this had not run.
    /// </summary>
    private async Task<Result<Reply>?> TryFirstRequestAsync(IdempotencyClaim claim, CreateOrderRequest request, CancellationToken cancellationToken)
    {
        var (merchantId, idempotencyKey) = (claim.MerchantId, claim.Key);
        Result<Route> route;
        try
        {
            route = await RouteAsync(merchantId, request, name => gateways.Names.Contains(name) && health.IsClosed(name), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Stored credentials that cannot be read or opened now: a retry of a finished request must still get its
            // reply, so the careful path decides (and, for a new request, meets the same fault after the claim).
            return null;
        }
        if (route.Value is not { SkippedAny: false } healthy)
        {
            return null;
        }
        var (order, created) = NewOrder(merchantId, idempotencyKey, request, healthy);
        // Not inside the release below: if this fails after committing (the connection dropped), the key is this
        // request's, but it cannot know that, and releasing could delete another request's claim. The claim then runs
        // out after KeyLock and a retry resumes the order.
        if (!await store.InsertOrderClaimingKeyAsync(order, created, OrderNotices.ForStatus(order, OrderStatus.Created, order.CreatedAt), claim with { At = order.CreatedAt },
                cancellationToken))
        {
            return null;
        }
        return await ReleaseKeyUnlessSucceededAsync(merchantId, idempotencyKey,
            () => PayOrResumeAsync(merchantId, idempotencyKey, order, healthy.Gateway, healthy.Schedule, resumed: false, cancellationToken));
    }

    /// <summary>
    /// Runs what follows a claimed key. A success has stored its reply for the key (<see cref="PayOrResumeAsync"/>);
    /// anything else changed nothing the key should pin, so the claim is released and the merchant may retry with the same key.
    /// </summary>
    private async Task<Result<Reply>> ReleaseKeyUnlessSucceededAsync(string merchantId, string idempotencyKey, Func<Task<Result<Reply>>> work)
    {
        try
        {
            var result = await work();
            if (!result.IsSuccess)
            {
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

    /// <summary>The gateway an order goes to, with its check schedule; whether routing passed over a gateway whose circuit did not allow it.</summary>
    private sealed record Route(IPaymentGateway Gateway, Domain.Checks.CheckSchedule Schedule, string? Note, bool SkippedAny);

    private async Task<Result<Route>> RouteAsync(string merchantId, CreateOrderRequest request, Func<string, bool> circuitAllows, CancellationToken cancellationToken)
    {
        var merchant = await store.GetMerchantAsync(merchantId, cancellationToken)
            ?? throw new InvalidOperationException($"Authenticated merchant {merchantId} does not exist.");
        var settings = MerchantSettings.Parse(merchant.SettingsJson);
        var (gatewayName, skipped, noRoute) = ChooseGateway(request, settings, circuitAllows);
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
        var note = skipped is null ? null : skipped.Count == 0 ? "routed by rule" : $"routed past failing {string.Join(", ", skipped)}";
        return new Route(gateway, settings.ScheduleFor(gateway.Name), note, SkippedAny: skipped is { Count: > 0 });
    }

    private (OrderRecord Order, TimelineEntry Created) NewOrder(string merchantId, string idempotencyKey, CreateOrderRequest request, Route route)
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
            Gateway: route.Gateway.Name,
            Customer: request.Customer,
            MetadataJson: Json.Serialize(request.Metadata),
            ReturnUrl: request.ReturnUrl,
            ClientSecret: string.Empty,
            IdempotencyKey: idempotencyKey,
            CreatedAt: now,
            UpdatedAt: now)
        {
            // Until the customer reaches the gateway the only thing to check for is expiry.
            NextCheckAt = now + route.Schedule.ExpireUnpaidAfter,
        };
        order = order with { ClientSecret = $"{order.Id}_secret_{Secrets.RandomToken(24)}" };
        var created = new TimelineEntry(now, "order.created",
            $"Order created for {request.Amount} {request.Currency} (minor units) via {route.Gateway.Name}{(route.Note is null ? "" : $" ({route.Note})")}.");
        return (order, created);
    }

    private async Task<Result<Reply>> CreateOrResumeAsync(string merchantId, string idempotencyKey, CreateOrderRequest request, Route route,
        CancellationToken cancellationToken)
    {
        var (order, created) = NewOrder(merchantId, idempotencyKey, request, route);
        var gateway = route.Gateway;
        var resumed = !await store.InsertOrderAsync(order, created, OrderNotices.ForStatus(order, OrderStatus.Created, order.CreatedAt), cancellationToken);
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
        return await PayOrResumeAsync(merchantId, idempotencyKey, order, gateway, route.Schedule, resumed, cancellationToken);
    }

    /// <summary>
    /// Creates the payment at the gateway and records it with the request's reply; a resumed order that got as far as
    /// the gateway before keeps its attempt, and only the reply is stored.
    /// </summary>
    private async Task<Result<Reply>> PayOrResumeAsync(string merchantId, string idempotencyKey, OrderRecord order, IPaymentGateway gateway,
        Domain.Checks.CheckSchedule schedule, bool resumed, CancellationToken cancellationToken)
    {
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
    /// gateways whose circuit does not allow it (<paramref name="circuitAllows"/>), and say which they skipped;
    /// without rules, the default gateway (and no skipped list, as nothing was routed).
    /// </summary>
    private static (string Gateway, IReadOnlyList<string>? Skipped, Problem? NoRoute) ChooseGateway(CreateOrderRequest request, MerchantSettings settings,
        Func<string, bool> circuitAllows)
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
        var (chosen, skipped) = Domain.Gateways.GatewayRouting.Choose(rules, request.Currency, request.Amount, request.PaymentMethod, circuitAllows);
        if (chosen is null)
        {
            return ("", skipped, skipped.Count == 0
                ? Problem.Validation("gateway", $"No routing rule matches {request.Currency} {request.Amount} (minor units){(request.PaymentMethod is null ? "" : $" by {request.PaymentMethod}")}; name a gateway or add a rule.")
                : new Problem(503, "gateway-unavailable", "Every eligible gateway is failing.",
                    $"The gateways for this order ({string.Join(", ", skipped)}) are failing right now (circuit open). Retry shortly with the same Idempotency-Key."));
        }
        return (chosen, skipped, null);
    }
}
