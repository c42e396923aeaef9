using Clearflow.Application.Common;

namespace Clearflow.Server.Http;

/// <summary>
/// Tells <see cref="BackgroundAdmission"/> which requests are waiting for their answer: from when the pipeline
/// receives one until its response starts (a live status stream counts only until its first event). Endpoints
/// marked <see cref="NotWaitedOn{TBuilder}"/> are left out.
/// </summary>
public static class RequestPrecedence
{
    public static IApplicationBuilder UseRequestPrecedence(this IApplicationBuilder app)
    {
        var admission = app.ApplicationServices.GetRequiredService<BackgroundAdmission>();
        // Routing has run by now (the host adds it first), so the matched endpoint's metadata is known.
        return app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<NotWaitedOnMarker>() is not null)
            {
                await next(context);
                return;
            }
            var answered = 0;
            void Answered()
            {
                if (Interlocked.Exchange(ref answered, 1) == 0)
                {
                    admission.RequestAnswered();
                }
            }
            admission.RequestReceived();
            context.Response.OnStarting(() =>
            {
                Answered();
                return Task.CompletedTask;
            });
            try
            {
                await next(context);
            }
            finally
            {
                // Whichever comes first counts, once: a response with no body starts only after the pipeline has
                // returned, and a request whose client went away may never start one.
                Answered();
            }
        });
    }

    /// <summary>Requests to these endpoints do not hold background work back (a stand-in for a service that runs elsewhere).</summary>
    public static TBuilder NotWaitedOn<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(NotWaitedOnMarker.Instance);

    private sealed class NotWaitedOnMarker
    {
        public static readonly NotWaitedOnMarker Instance = new();
    }
}
