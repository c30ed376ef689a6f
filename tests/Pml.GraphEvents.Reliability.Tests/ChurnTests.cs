using System.Net.Sockets;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>Clients that come and go while events flow leave nothing behind.</summary>
public sealed class ChurnTests
{
    private const int Cycles = 10_000;
    private const int Parallelism = 16;
    private const int WarmUpCycles = 500;

    /// <summary>
    /// The bound on managed memory growth over 10,000 cycles, after a warm-up and a full GC. A
    /// leaked subscription costs at least its queue, its frames and its connection state (several
    /// KB), so a leak of even one subscription per cycle would show as tens of MB.
    /// </summary>
    private const long MaxGrowthBytes = 20 * 1024 * 1024;

    private static readonly DateTimeOffset Timestamp = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Ten_thousand_connect_and_reset_cycles_leave_no_subscriber_and_bounded_memory()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["GraphEvents:MaxSubscribers"] = "1000",

            // 16 churning connections and the witness, all from 127.0.0.1, and reset connections
            // that the server has not yet seen close: over the server's default of 16 per address.
            ["GraphEvents:Stream:MaxStreamsPerAddress"] = "1000",
        });

        // A client that stays through the churn, and must receive every event in order.
        await using var witness = await RecordingStream.OpenAsync(server.Client, server.StreamUri());
        await Eventually.HoldsAsync(() => witness.CountFrames("connected") == 1, "the witness connected");

        using var stopPublishing = CancellationTokenSource.CreateLinkedTokenSource(token);
        var published = 0;
        var publisher = Task.Run(async () =>
        {
            while (!stopPublishing.IsCancellationRequested)
            {
                await server.Broadcaster.PublishAsync(new EdgeCreatedEvent("churn:a", "churn:b", 0.5, Timestamp), token);
                published++;

                // Paced: a flood would make this a test of the ingress queue, not of churn.
                await Task.Delay(1, token);
            }
        }, token);

        await RunCyclesAsync(server, WarmUpCycles, token);
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 1, () => $"the warm-up's subscribers left ({server.Broadcaster.SubscriberCount} remain)");
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var completed = await RunCyclesAsync(server, Cycles, token);

        await stopPublishing.CancelAsync();
        await Task.WhenAny(publisher);
        Assert.Equal(Cycles, completed);

        // Only the witness is left: every reset connection ended its subscription.
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 1, () => $"the churned subscribers left ({server.Broadcaster.SubscriberCount} remain)");
        var after = GC.GetTotalMemory(forceFullCollection: true);
        TestContext.Current.TestOutputHelper?.WriteLine($"{Cycles:N0} cycles, {published:N0} events: managed memory {before:N0} -> {after:N0} bytes");
        Assert.True(after - before < MaxGrowthBytes, $"Managed memory grew by {(after - before) / 1024.0 / 1024.0:F1} MB over {Cycles:N0} cycles (bound {MaxGrowthBytes / 1024 / 1024} MB).");

        await Eventually.HoldsAsync(() => witness.CountFrames("edge_created") == published, () => $"the witness received {published} events (has {witness.CountFrames("edge_created")})");
        var frames = witness.Frames().Where(f => f.EventType == "edge_created").ToList();
        Assert.Equal(published, frames.Count);
        var ids = frames.Select(f => EventIds.Offset(f.Id)).ToList();
        Assert.Equal(Enumerable.Range(0, ids.Count).Select(i => ids[0] + i), ids);

        await witness.DisposeAsync();
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "the subscriber count returned to 0");
        Assert.Equal(0, server.Broadcaster.GetStatistics().SubscribersEvicted);
        await server.AssertHealthyAsync();
    }

    /// <summary>
    /// Each cycle connects, asks for the stream, and resets the connection: three of four after the
    /// connected frame (a subscribed client that vanishes), one of four right after sending the
    /// request (a client gone before the server answered).
    /// </summary>
    private static async Task<int> RunCyclesAsync(TestHost server, int cycles, CancellationToken cancellationToken)
    {
        var request = RawHttp.Get(RunningServer.StreamPath);
        var next = -1;
        var completed = 0;
        await Task.WhenAll(Enumerable.Range(0, Parallelism).Select(_ => Task.Run(
            async () =>
            {
                int cycle;
                while ((cycle = Interlocked.Increment(ref next)) < cycles)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(Eventually.Deadline);
                    using (var socket = await RawHttp.ConnectAsync(server.EndPoint, cancellationToken: timeout.Token))
                    {
                        await socket.SendAsync(request, timeout.Token);
                        if (cycle % 4 != 0)
                        {
                            var received = await RawHttp.ReceiveUntilAsync(socket, "event: connected", timeout.Token);
                            Assert.StartsWith("HTTP/1.1 200 ", System.Text.Encoding.ASCII.GetString(received), StringComparison.Ordinal);
                        }

                        socket.Close(); // linger 0: a reset, as from a crashed client
                    }

                    Interlocked.Increment(ref completed);
                }
            },
            cancellationToken)));
        return completed;
    }
}
