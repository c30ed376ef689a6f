using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>The JSON error answers of the stream endpoint, written without reflection so they trim and AOT-compile.</summary>
internal static class ErrorResponses
{
    public static Task WriteTooManyClientsAsync(HttpResponse response, int max, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return WriteJsonAsync(response, writer =>
        {
            writer.WriteString("error", "Too many clients");
            writer.WriteNumber("max", max);
        }, cancellationToken);
    }

    public static Task WriteShuttingDownAsync(HttpResponse response, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return WriteJsonAsync(response, writer => writer.WriteString("error", "Shutting down"), cancellationToken);
    }

    public static Task WriteBadTypesAsync(HttpResponse response, string message, IReadOnlyList<string> unknown, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status400BadRequest;
        return WriteJsonAsync(response, writer =>
        {
            writer.WriteString("error", message);
            writer.WriteStartArray("unknown_types");
            foreach (var name in unknown)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("known_types");
            foreach (var name in GraphEventTypes.All)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
        }, cancellationToken);
    }

    public static void MethodNotAllowed(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        response.Headers.Allow = HttpMethodsAllowed.AllowHeader;

        // Like every answer on the stream path, so a cache keyed on the URL never mixes origins.
        if (!response.Headers.Vary.Any(static v => v is not null && v.Contains("Origin", StringComparison.OrdinalIgnoreCase)))
        {
            response.Headers.Append("Vary", "Origin");
        }
    }

    private static async Task WriteJsonAsync(HttpResponse response, Action<Utf8JsonWriter> body, CancellationToken cancellationToken)
    {
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }
}
