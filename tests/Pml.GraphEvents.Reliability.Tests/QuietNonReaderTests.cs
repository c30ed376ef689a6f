using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Clients that send <c>GET /events/stream</c> and never read, on a stream with nothing to say: the
/// write timeout never sees them (the peer's kernel acknowledges every heartbeat into its receive
/// buffer), so before the stream lifetime they held their subscriber slots for as long as their
/// sockets stayed open, and everyone else got 503.
/// </summary>
public sealed class QuietNonReaderTests
{
    private const int Slots = 5;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Clients_that_never_read_a_quiet_stream_give_their_slots_back_within_the_stream_lifetime()
    {
        var lifetime = TimeSpan.FromSeconds(3);
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["GraphEvents:MaxSubscribers"] = Slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["GraphEvents:Stream:MaxStreamDuration"] = lifetime.ToString(),
        });

        // The server's start-up events are out before the slots are taken: from here on, quiet.
        await server.BroadcastMarkerAsync();

        var nonReaders = new List<Socket>();
        try
        {
            for (var i = 0; i < Slots; i++)
            {
                var socket = await RawHttp.ConnectAsync(server.EndPoint, cancellationToken: Token);
                nonReaders.Add(socket);
                await socket.SendAsync(RawHttp.Get(RunningServer.StreamPath), Token);
            }

            await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == Slots, () => $"the non-readers subscribed ({server.Broadcaster.SubscriberCount})");
            var held = Stopwatch.StartNew();

            // Locked out: every slot is held by a socket nobody reads.
            using (var refused = await server.Client.GetAsync(server.StreamUri(), HttpCompletionOption.ResponseHeadersRead, Token))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            }

            // Nothing is published: the stream stays quiet. Within the lifetime the non-readers'
            // streams end, and a reader gets in.
            SseClient? reader = null;
            await Eventually.TrueAsync(
                async () =>
                {
                    var attempt = await SseClient.OpenAsync(server.Client, server.StreamUri());
                    if (attempt.Response.StatusCode == HttpStatusCode.OK)
                    {
                        reader = attempt;
                        return true;
                    }

                    await attempt.DisposeAsync();
                    return false;
                },
                "a reader was accepted after the non-readers' streams reached their lifetime");
            await using (reader)
            {
                var waited = held.Elapsed;
                TestContext.Current.TestOutputHelper?.WriteLine($"A reader got in {waited.TotalSeconds:F1} s after the slots were taken (lifetime {lifetime.TotalSeconds} s).");
                Assert.Equal("connected", (await reader!.ReadAsync()).EventType);

                // Never sooner than nine tenths of the lifetime.
                Assert.True(waited >= lifetime * 0.9 - TimeSpan.FromMilliseconds(100), $"The slots came back after {waited}, before the lifetime's lower bound.");
            }

            // Each non-reader's response ended cleanly: its socket holds the chunked body's last chunk.
            foreach (var socket in nonReaders)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
                timeout.CancelAfter(Eventually.Deadline);
                var received = Encoding.ASCII.GetString(await RawHttp.ReceiveUntilAsync(socket, "\r\n0\r\n\r\n", timeout.Token));
                Assert.StartsWith("HTTP/1.1 200 OK", received, StringComparison.Ordinal);
                Assert.EndsWith("\r\n0\r\n\r\n", received, StringComparison.Ordinal);
            }
        }
        finally
        {
            foreach (var socket in nonReaders)
            {
                socket.Dispose();
            }
        }

        await server.AssertHealthyAsync();
    }
}
