using System.Globalization;
using System.Net.Sockets;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class StalledClientTests
{
    private const int Healthy = 99;
    private const int Batch = 16;
    private const int EventBytes = 16 * 1024;
    private const int MaxBatches = 200;

    /// <summary>
    /// With a small subscriber buffer the broadcaster ends the stalled subscription as lagging
    /// (its writer is stuck in a flush and stops draining it); with a large one, the buffer never
    /// fills in time and the write timeout is what evicts it.
    /// </summary>
    [Theory]
    [InlineData(64, 30_000, true)]
    [InlineData(4096, 500, false)]
    public async Task A_client_that_stops_reading_is_evicted_while_99_others_get_everything(int subscriberBuffer, int writeTimeoutMs, bool byLag)
    {
        await using var server = await StreamServer.StartAsync(
            events: o => o.SubscriberBufferCapacity = subscriberBuffer,
            stream: o => o.WriteTimeout = TimeSpan.FromMilliseconds(writeTimeoutMs));

        // Connected, request sent, never read: its TCP window fills and the server's flush blocks.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(server.EndPoint, TestContext.Current.CancellationToken);
        await stalled.SendAsync(RawHttp.Get(StreamServer.Path), TestContext.Current.CancellationToken);
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 1, "the stalled client subscribed");

        var readers = await Task.WhenAll(Enumerable.Range(0, Healthy).Select(async _ => new Reader(await SseClient.OpenAsync(server.Client, server.StreamUri()))));
        try
        {
            await Eventually.HoldsAsync(() => readers.All(r => r.Connected), "every healthy reader connected");
            Assert.Equal(Healthy + 1, server.Broadcaster.SubscriberCount);

            var published = 0;
            var batches = 0;
            var evictedAfter = -1;
            while (batches < MaxBatches && (evictedAfter < 0 || batches < evictedAfter + 2))
            {
                // Batches smaller than the subscriber buffer, each drained by the healthy readers
                // before the next, so they provably keep up and only the stalled one falls behind.
                for (var i = 0; i < Batch; i++)
                {
                    await server.Broadcaster.PublishAsync(SampleEvents.Big(published++, EventBytes), TestContext.Current.CancellationToken);
                }

                batches++;
                var expected = published;
                await Eventually.HoldsAsync(() => readers.All(r => r.Received >= expected), $"{Healthy} readers received {expected} events");
                if (evictedAfter < 0 && server.Broadcaster.SubscriberCount == Healthy)
                {
                    evictedAfter = batches;
                }
            }

            Assert.True(evictedAfter > 0, $"The stalled client was not evicted after {batches} batches of {Batch} events of {EventBytes} bytes.");
            Assert.Equal(byLag ? 1 : 0, server.Broadcaster.GetStatistics().SubscribersEvicted);
            Assert.Equal(Healthy, server.Broadcaster.SubscriberCount);
            Assert.All(readers, r => Assert.Equal(Enumerable.Range(1, published).Select(i => (long)i), r.Ids.Select(EventIds.Offset)));
        }
        finally
        {
            foreach (var reader in readers)
            {
                await reader.DisposeAsync();
            }
        }
    }

    /// <summary>Reads one stream in the background and keeps the ids of the workflow events.</summary>
    private sealed class Reader : IAsyncDisposable
    {
        private readonly SseClient _client;
        private readonly Task _reading;
        private readonly List<string> _ids = [];
        private volatile bool _connected;

        public Reader(SseClient client)
        {
            _client = client;
            _reading = Task.Run(ReadAsync);
        }

        public bool Connected => _connected;

        public int Received
        {
            get
            {
                lock (_ids)
                {
                    return _ids.Count;
                }
            }
        }

        public List<string> Ids
        {
            get
            {
                lock (_ids)
                {
                    return [.. _ids];
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            try
            {
                await _reading;
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task ReadAsync()
        {
            while (await _client.NextAsync() is { } item)
            {
                if (item.EventType == "connected")
                {
                    _connected = true;
                }
                else if (item.EventType == "workflow_executed")
                {
                    lock (_ids)
                    {
                        _ids.Add(item.EventId!);
                    }
                }
            }
        }
    }
}
