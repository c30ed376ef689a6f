using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pml.GraphEvents.Testing;

/// <summary>
/// Raw HTTP/1.1 over a socket, for tests that must see exact bytes, or whose clients must misbehave:
/// never read, read slowly, reset.
/// </summary>
internal static class RawHttp
{
    public static byte[] Get(string path, string? extraHeaders = null) =>
        Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{extraHeaders}\r\n");

    /// <summary>A connected socket whose close sends a reset (no FIN, no TIME_WAIT), as a crashed client's does.</summary>
    public static async Task<Socket> ConnectAsync(IPEndPoint endPoint, int? receiveBufferSize = null, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            LingerState = new LingerOption(true, 0),
            NoDelay = true,
        };
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size;
        }

        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Receives until <paramref name="marker"/> has arrived; returns everything received, or what came before the connection closed.</summary>
    public static async Task<byte[]> ReceiveUntilAsync(Socket socket, string marker, CancellationToken cancellationToken)
    {
        var wanted = Encoding.ASCII.GetBytes(marker);
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        while (received.GetBuffer().AsSpan(0, (int)received.Length).IndexOf(wanted) < 0)
        {
            var read = await socket.ReceiveAsync(buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    /// <summary>Sends a whole request and reads the whole answer until the server closes or <paramref name="marker"/> arrives.</summary>
    public static async Task<string> ExchangeAsync(IPEndPoint endPoint, byte[] request, string marker = "\r\n\r\n")
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Eventually.Deadline);
        using var socket = await ConnectAsync(endPoint, cancellationToken: timeout.Token);
        await socket.SendAsync(request, timeout.Token);
        return Encoding.Latin1.GetString(await ReceiveUntilAsync(socket, marker, timeout.Token));
    }

    /// <summary>The status code of a raw HTTP/1.1 answer.</summary>
    public static int Status(string answer)
    {
        Assert.StartsWith("HTTP/1.1 ", answer, StringComparison.Ordinal);
        return int.Parse(answer.AsSpan(9, 3), CultureInfo.InvariantCulture);
    }

    /// <summary>Receives, as text, until <paramref name="marker"/> and then <paramref name="end"/> after it have arrived (or the connection closed), within <see cref="SseClient.Deadline"/>.</summary>
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
