using System.Net.Sockets;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class DisconnectTests
{
    [Fact]
    public async Task An_aborted_request_ends_its_subscription()
    {
        await using var server = await StreamServer.StartAsync();
        var client = await SseClient.OpenAsync(server.Client, server.StreamUri());
        await client.ReadAsync();
        Assert.Equal(1, server.Broadcaster.SubscriberCount);

        await client.DisposeAsync();
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "the subscription ended");
    }

    [Fact]
    public async Task Two_thousand_connect_and_abort_cycles_leave_no_subscriber()
    {
        const int Cycles = 2_000;
        const int Parallel = 16;
        await using var server = await StreamServer.StartAsync(events: o => o.MaxSubscribers = 1_000);
        var request = RawHttp.Get(StreamServer.Path);
        var next = 0;
        var connected = 0;

        async Task CycleAsync()
        {
            while (Interlocked.Increment(ref next) <= Cycles)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(server.EndPoint, TestContext.Current.CancellationToken);
                await socket.SendAsync(request, TestContext.Current.CancellationToken);
                var text = await RawHttp.ReceiveUntilAsync(socket, "event: connected", "\n\n");
                Assert.Contains("event: connected", text, StringComparison.Ordinal);
                Interlocked.Increment(ref connected);

                // A reset, not a graceful close: what a killed browser or a dropped network does.
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Parallel).Select(_ => Task.Run(CycleAsync, TestContext.Current.CancellationToken)));

        Assert.Equal(Cycles, connected);
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "every subscription ended");
        Assert.Equal(0, server.Broadcaster.GetStatistics().SubscribesRefused);
    }

    [Fact]
    public async Task Stopping_the_host_ends_open_streams_instead_of_waiting_for_the_shutdown_timeout()
    {
        var server = await StreamServer.StartAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri());
        await client.ReadAsync();

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"Stopping took {stopwatch.Elapsed}.");
        Assert.Null(await client.NextAsync());
    }
}
