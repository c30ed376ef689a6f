using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Pml.GraphEvents.AspNetCore.Tests.TestSupport;

/// <summary>Raw HTTP/1.1 over a socket, for tests that must see exact bytes or must not read.</summary>
internal static class RawHttp
{
    public static byte[] Get(string path, string? extraHeaders = null) =>
        Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{extraHeaders}\r\n");

    /// <summary>Receives until <paramref name="marker"/> and then <paramref name="end"/> after it have arrived.</summary>
    public static async Task<string> ReceiveUntilAsync(Socket socket, string marker, string end)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(SseClient.Deadline);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
        {
            var text = received.ToString();
            var at = text.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0 && text.IndexOf(end, at, StringComparison.Ordinal) >= 0)
            {
                return text;
            }

            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            if (read == 0)
            {
                return received.ToString();
            }

            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
    }

    /// <summary>Joins the chunks of a chunked body (complete chunks only).</summary>
    public static string Dechunk(string body)
    {
        var result = new StringBuilder();
        var position = 0;
        while (position < body.Length)
        {
            var lineEnd = body.IndexOf("\r\n", position, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                break;
            }

            var size = int.Parse(body.AsSpan(position, lineEnd - position), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0 || lineEnd + 2 + size > body.Length)
            {
                break;
            }

            result.Append(body, lineEnd + 2, size);
            position = lineEnd + 2 + size + 2;
        }

        return result.ToString();
    }
}
