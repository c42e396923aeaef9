using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Clearflow.Gateways;

/// <summary>
/// Retries inside one gateway call, only where repeating cannot do a thing twice: reads (GET) and writes
/// that carry the gateway's idempotency header. Only transient outcomes are retried (connection errors,
/// 408, 429, 5xx), twice, quickly; anything longer is the job of Clearflow's own schedules (resume with the
/// same key, status checks, refund checks), which survive restarts. A create at a gateway without
/// idempotency (Razorpay orders, Cashfree without its header) is never retried here.
/// </summary>
public static class GatewayResilience
{
    private static readonly string[] IdempotencyHeaders = ["Idempotency-Key", "x-idempotency-key", "X-Refund-Idempotency"];

    public static IHttpResiliencePipelineBuilder AddGatewayRetries(this IHttpClientBuilder builder) =>
        builder.AddResilienceHandler("gateway-retries", pipeline =>
        {
            // Real time, whatever clock the application runs on: waiting 200 ms for a socket is not a business delay.
            pipeline.TimeProvider = TimeProvider.System;
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = 2,
                Delay = TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(
                    IsSafeToRepeat(args.Outcome.Result?.RequestMessage ?? args.Context.GetRequestMessage()) && IsTransient(args.Outcome)),
            });
        });

    public static bool IsSafeToRepeat(HttpRequestMessage? request) =>
        request is not null && (request.Method == HttpMethod.Get || IdempotencyHeaders.Any(h => request.Headers.Contains(h)));

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutException } => true,
        { Result: { } response } => (int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        _ => false,
    };
}
