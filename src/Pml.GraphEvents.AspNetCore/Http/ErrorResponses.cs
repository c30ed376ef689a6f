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

    public static Task WriteTooManyStreamsFromAddressAsync(HttpResponse response, int max, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        // Problem details, the shape ASP.NET Core gives a 429; "max" as in the 503's body.
        var seconds = (long)Math.Ceiling(retryAfter.TotalSeconds);
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return WriteJsonAsync(response, writer =>
        {
            writer.WriteString("type", "https://tools.ietf.org/html/rfc6585#section-4");
            writer.WriteString("title", "Too many streams from one address");
            writer.WriteNumber("status", StatusCodes.Status429TooManyRequests);
            writer.WriteString(
                "detail",
                string.Create(CultureInfo.InvariantCulture, $"This address has {max:N0} streams open, the most {GraphEventStreamOptions.SectionName}:{nameof(GraphEventStreamOptions.MaxStreamsPerAddress)} allows. Close one, or retry after {seconds} seconds."));
            writer.WriteNumber("max", max);
        }, cancellationToken, "application/problem+json");
    }

    public static Task WriteShuttingDownAsync(HttpResponse response, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return WriteJsonAsync(response, writer => writer.WriteString("error", "Shutting down"), cancellationToken);
    }

    public static Task WriteBadTypesAsync(HttpResponse response, string message, IReadOnlyList<string> unknown, IReadOnlyList<string> known, CancellationToken cancellationToken)
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
            foreach (var name in known)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
        }, cancellationToken);
    }

    /// <summary>A stream refused by the OnConnected hook: its status, an empty body, never cached.</summary>
    public static void Rejected(HttpResponse response, int statusCode)
    {
        response.StatusCode = statusCode;
        response.Headers.CacheControl = "no-store";
        response.ContentLength = 0;
    }

    /// <summary>Any method but GET and OPTIONS: 405, with the same <c>Allow</c> as an OPTIONS answer.</summary>
    public static void MethodNotAllowed(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        response.Headers.Allow = HttpMethodsAllowed.AllowHeader;
    }

    /// <summary>A plain OPTIONS (not a CORS preflight): 204 with <c>Allow</c>, as RFC 9110 describes it.</summary>
    public static void Options(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status204NoContent;
        response.Headers.Allow = HttpMethodsAllowed.AllowHeader;
    }

    private static async Task WriteJsonAsync(HttpResponse response, Action<Utf8JsonWriter> body, CancellationToken cancellationToken, string contentType = "application/json")
    {
        response.ContentType = contentType;
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
