using System.Diagnostics;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// A light SSE client for load: it does not parse frames, it counts <c>event: edge_created</c>
/// lines as they stream past (each event frame has exactly one, and they arrive in publish order,
/// so the n-th is event n) and reports each with the time it was read. Parsing every frame with
/// SseParser would cost more CPU than the server under test on a 2-core machine.
/// </summary>
internal static class SseCountingReader
{
    private static readonly byte[] Marker = "event: edge_created\n"u8.ToArray();

    public static async Task ReadAsync(HttpClient client, string url, Action<long, long> received, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("text/event-stream");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[64 * 1024];
            var carry = 0;
            long sequence = 0;
            while (true)
            {
                var read = await body.ReadAsync(buffer.AsMemory(carry), cancellationToken);
                if (read == 0)
                {
                    return;
                }

                var now = Stopwatch.GetTimestamp();
                var span = buffer.AsSpan(0, carry + read);
                int index;
                while ((index = span.IndexOf(Marker)) >= 0)
                {
                    received(++sequence, now);
                    span = span[(index + Marker.Length)..];
                }

                // Keep a tail that may hold the start of a marker split across reads.
                carry = Math.Min(span.Length, Marker.Length - 1);
                span[^carry..].CopyTo(buffer);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException)
        {
            // The probe ends streams by cancelling them.
        }
    }
}
