using Clearflow.Application.Common;
using Microsoft.AspNetCore.Http.Features;

namespace Clearflow.Server.Http;

/// <summary>Reads a request body as exact bytes, refusing more than a limit with a 413 problem.</summary>
public static class RawBody
{
    public static async Task<(byte[]? Body, Problem? Problem)> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tooLarge = new Problem(413, "body-too-large", "The request body is too large.", $"The body must be at most {maxBytes} bytes.");
        if (request.ContentLength > maxBytes)
        {
            return (null, tooLarge);
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes + 1L;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return (null, tooLarge);
                }
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, tooLarge);
        }
        return (buffer.ToArray(), null);
    }
}
