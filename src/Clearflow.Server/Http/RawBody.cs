using System.Buffers;
using Clearflow.Application.Common;
using Microsoft.AspNetCore.Http.Features;

namespace Clearflow.Server.Http;

/// <summary>Reads a request body as exact bytes, refusing more than a limit with a 413 problem.</summary>
public static class RawBody
{
    public static async Task<(byte[]? Body, Problem? Problem)> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes + 1L;
        }
        // Every create-order and webhook comes through here: the read buffer is rented, not allocated per request
        // (it was 16 KB of garbage per request, several per payment), and the body is sized by its Content-Length.
        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 0);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return (null, TooLarge(maxBytes));
                }
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(maxBytes));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return (buffer.ToArray(), null);
    }

    private static Problem TooLarge(int maxBytes) =>
        new(413, "body-too-large", "The request body is too large.", $"The body must be at most {maxBytes} bytes.");
}
