using Clearflow.Application.Common;

namespace Clearflow.Server.Http;

/// <summary>
/// Tells <see cref="BackgroundAdmission"/> which requests are waiting for their answer: from when the pipeline
/// receives one until its response starts (a live status stream counts only until its first event). The
/// sandbox gateway's server-to-server API is left out: it stands in for a gateway that runs elsewhere, and
/// Clearflow's own background work calls it.
/// </summary>
public static class RequestPrecedence
{
    public static IApplicationBuilder UseRequestPrecedence(this IApplicationBuilder app)
    {
        var admission = app.ApplicationServices.GetRequiredService<BackgroundAdmission>();
        return app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/sandbox/api", StringComparison.OrdinalIgnoreCase))
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
                Answered(); // a request that ends without a response (the client went away) counts as answered too
            }
        });
    }
}
