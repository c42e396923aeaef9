using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Server.Hosting;
using Clearflow.Server.Http;

namespace Clearflow.Server.Shop;

/// <summary>
/// A tiny shop at <c>/</c> that uses Clearflow the way a merchant would: its backend creates the order
/// over the public API with the demo key, the browser opens the checkout, and the Processing screen
/// polls the order with its client secret until the outcome is final.
/// </summary>
public static class DemoShop
{
    public const long PriceMinor = 49_900;
    public const string Currency = "INR";

    public static IEndpointRouteBuilder MapDemoShop(this IEndpointRouteBuilder routes)
    {
        var shop = routes.MapGroup("").ExcludeFromDescription().AllowAnonymous();
        shop.MapGet("/", () => TypedResults.Content(ProductPage, "text/html; charset=utf-8"));
        shop.MapPost("/shop/pay", PayAsync).DisableAntiforgery();
        shop.MapGet("/shop/processing", () => TypedResults.Content(ProcessingPage, "text/html; charset=utf-8"));
        return routes;
    }

    private sealed record PayRequest(string? IdempotencyKey);

    private static async Task<IResult> PayAsync(HttpRequest request, DemoMerchantContext demo, IPublicUrls urls, IHttpClientFactory httpClients, CancellationToken cancellationToken)
    {
        if (demo.SecretKey is null)
        {
            return new Problem(503, "demo-disabled", "The demo merchant is not enabled.", "Set Clearflow:DemoMerchant:Enabled to true.").ToResult();
        }
        var pay = await request.ReadFromJsonAsync<PayRequest>(Json.Options, cancellationToken);
        var idempotencyKey = string.IsNullOrWhiteSpace(pay?.IdempotencyKey) ? Guid.NewGuid().ToString() : pay.IdempotencyKey;

        // Exactly what a merchant backend does: one POST with its secret key and an idempotency key.
        var http = httpClients.CreateClient(nameof(DemoShop));
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(urls.BaseUri, "v1/orders"))
        {
            Content = new StringContent(Json.Serialize(new
            {
                amount = PriceMinor,
                currency = Currency,
                receipt = "demo-" + idempotencyKey[..Math.Min(idempotencyKey.Length, 30)],
                customer = new { id = "demo-customer", name = "Demo Customer" },
                metadata = new Dictionary<string, string> { ["product"] = "clearflow-mug" },
                return_url = new Uri(urls.BaseUri, "shop/processing").ToString(),
            }), Encoding.UTF8, "application/json"),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", demo.SecretKey);
        message.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await http.SendAsync(message, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return TypedResults.Content(body, "application/problem+json", Encoding.UTF8, (int)response.StatusCode);
        }
        using var order = JsonDocument.Parse(body);
        var root = order.RootElement;
        return TypedResults.Json(new
        {
            order_id = root.GetProperty("id").GetString(),
            client_secret = root.GetProperty("client_secret").GetString(),
            checkout_url = root.GetProperty("checkout").GetProperty("checkout_url").GetString(),
        });
    }

    private const string Style = """
        <style>
          body { font-family: system-ui, sans-serif; background: #fafaf9; color: #1c1917; margin: 0; }
          header { background: #1c1917; color: #fff; padding: 1rem 2rem; font-weight: 600; }
          main { max-width: 28rem; margin: 3rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 2px 12px #0001; text-align: center; }
          .price { font-size: 1.8rem; font-weight: 700; margin: .5rem 0 1.5rem; }
          button { background: #2563eb; color: #fff; border: 0; border-radius: 8px; padding: .9rem 2.5rem; font-size: 1.1rem; cursor: pointer; }
          button:disabled { opacity: .6; }
          .status { font-size: 1.4rem; font-weight: 600; margin: 1rem 0; }
          .succeeded { color: #16a34a; } .failed, .expired, .cancelled { color: #dc2626; } .requires_review { color: #b45309; }
          .spinner { width: 2.5rem; height: 2.5rem; border: 4px solid #e5e7eb; border-top-color: #2563eb; border-radius: 50%; margin: 1rem auto; animation: spin 1s linear infinite; }
          @keyframes spin { to { transform: rotate(360deg); } }
          .error { color: #dc2626; }
        </style>
        """;

    private const string ProductPage = $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Clearflow demo shop</title>{{Style}}</head>
        <body><header>Clearflow demo shop</header>
        <main>
          <div style="font-size:4rem">☕</div>
          <h1>Clearflow mug</h1>
          <p>Holds exactly one coffee. Never two.</p>
          <div class="price" data-testid="price">₹499.00</div>
          <button id="pay" data-testid="pay">Pay ₹499.00</button>
          <p id="error" class="error" role="alert"></p>
          <p style="font-size:.85rem;color:#57534e">Payments go to the sandbox gateway. <a href="/docs">API reference</a></p>
        </main>
        <script>
          const key = crypto.randomUUID();
          document.getElementById('pay').addEventListener('click', async (e) => {
            e.target.disabled = true;
            const res = await fetch('/shop/pay', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ idempotency_key: key }) });
            const body = await res.json();
            if (!res.ok) { document.getElementById('error').textContent = body.detail || 'Could not start the payment.'; e.target.disabled = false; return; }
            sessionStorage.setItem('clearflow:' + body.order_id, body.client_secret);
            location.href = body.checkout_url;
          });
        </script></body></html>
        """;

    private const string ProcessingPage = $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Processing payment</title>{{Style}}</head>
        <body><header>Clearflow demo shop</header>
        <main>
          <div id="spinner" class="spinner"></div>
          <div id="status" class="status" data-testid="status">Processing…</div>
          <p id="detail">We are confirming your payment with the gateway.</p>
          <p><a href="/">Back to the shop</a></p>
        </main>
        <script>
          const orderId = new URLSearchParams(location.search).get('order_id');
          const secret = orderId && sessionStorage.getItem('clearflow:' + orderId);
          const labels = { succeeded: 'Payment succeeded', failed: 'Payment failed', expired: 'Payment expired', cancelled: 'Payment cancelled',
                           requires_review: 'We are checking your payment', refunded: 'Payment refunded', partially_refunded: 'Payment partly refunded' };
          const show = (status, detail) => {
            const el = document.getElementById('status');
            el.textContent = labels[status] || 'Processing…';
            el.className = 'status ' + status;
            el.dataset.orderStatus = status;
            if (detail) document.getElementById('detail').textContent = detail;
          };
          const finish = (order) => {
            show(order.status, 'Order ' + order.id + (order.status === 'succeeded' ? ': your mug is on its way.' : '.'));
            const spinner = document.getElementById('spinner');
            if (spinner) spinner.remove();
          };
          // Live status over server-sent events; plain polling if the stream is not available.
          function listen() {
            if (!secret) { show('unknown', 'This browser did not start the payment for this order.'); document.getElementById('spinner').remove(); return; }
            if (!window.EventSource) { poll(); return; }
            const events = new EventSource('/v1/orders/' + encodeURIComponent(orderId) + '/events?client_secret=' + encodeURIComponent(secret));
            events.addEventListener('status', (e) => {
              const order = JSON.parse(e.data);
              if (order.is_final || order.status === 'requires_review') { events.close(); finish(order); } else { show(order.status); }
            });
            events.onerror = () => { events.close(); setTimeout(poll, 1000); };
          }
          async function poll() {
            try {
              const res = await fetch('/v1/orders/' + encodeURIComponent(orderId), { headers: { Authorization: 'Bearer ' + secret } });
              if (res.ok) {
                const order = await res.json();
                if (order.is_final || order.status === 'requires_review') { finish(order); return; }
                show(order.status);
              }
            } catch { /* network blip: keep polling */ }
            setTimeout(poll, 1000);
          }
          listen();
        </script></body></html>
        """;
}
