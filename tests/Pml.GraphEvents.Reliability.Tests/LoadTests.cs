using System.Net;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>Many clients at once: each one gets every event, in order.</summary>
public sealed class LoadTests
{
    private const int Clients = 1_000;
    private const int Events = 10_000;

    // Published in batches, and the next batch waits until every client has the one before the
    // last: no client is ever more than two batches behind, well inside its buffer. The point is
    // that no event is lost and the order is kept, not how fast it goes.
    private const int Batch = 500;
    private const int SubscriberBuffer = 4 * Batch;

    private static readonly DateTimeOffset Timestamp = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_thousand_clients_each_receive_ten_thousand_events_none_lost_in_order()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["GraphEvents:MaxSubscribers"] = (Clients + 10).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["GraphEvents:SubscriberBufferCapacity"] = SubscriberBuffer.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["GraphEvents:ReplayCapacity"] = Events.ToString(System.Globalization.CultureInfo.InvariantCulture),

            // Every client connects from 127.0.0.1.
            ["GraphEvents:Stream:MaxStreamsPerAddress"] = (Clients + 10).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // The server's start-up events must be broadcast before the clients connect: broadcast
        // between two connects, they would give the clients different first ids.
        await server.BroadcastMarkerAsync();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var readers = new FrameIdReader[Clients];
        var reading = new Task[Clients];
        var responses = new HttpResponseMessage[Clients];
        try
        {
            // Opened a few at a time: a thousand simultaneous connects would only test the accept backlog.
            using var gate = new SemaphoreSlim(32);
            await Task.WhenAll(Enumerable.Range(0, Clients).Select(async i =>
            {
                await gate.WaitAsync(token);
                try
                {
                    var response = await server.Client.GetAsync(server.StreamUri(), HttpCompletionOption.ResponseHeadersRead, token);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    responses[i] = response;
                    readers[i] = new FrameIdReader();
                    var body = await response.Content.ReadAsStreamAsync(token);
                    reading[i] = ReadAsync(body, readers[i], stop.Token);
                }
                finally
                {
                    gate.Release();
                }
            }));

            await Eventually.HoldsAsync(() => readers.All(r => r.FirstId >= 0), "every client received its connected frame");
            Assert.Equal(Clients, server.Broadcaster.SubscriberCount);
            var start = EventIds.Offset(server.Broadcaster.GetStatistics().LastEventId);
            Assert.All(readers, r => Assert.Equal(start, r.FirstId));

            for (var published = 0; published < Events;)
            {
                var behind = start + published - Batch;
                await Eventually.HoldsAsync(
                    () => readers.All(r => r.LastId >= behind || r.Error is not null),
                    () => $"every client reached id {behind}; slowest at {readers.Min(r => r.LastId)}");
                for (var i = 0; i < Batch; i++, published++)
                {
                    await server.Broadcaster.PublishAsync(new GraphSyncedEvent(published, 0, 0, Timestamp), token);
                }
            }

            var last = start + Events;
            await Eventually.HoldsAsync(
                () => readers.All(r => r.LastId == last || r.Error is not null),
                () => $"every client reached id {last}; slowest at {readers.Min(r => r.LastId)}");

            Assert.All(readers, r => Assert.Null(r.Error));
            Assert.All(readers, r => Assert.Equal(last, r.LastId));
            var statistics = server.Broadcaster.GetStatistics();
            Assert.Equal(0, statistics.SubscribersEvicted);
            Assert.Equal(0, statistics.FramesDropped);
            Assert.Equal(Clients, statistics.SubscriberCount);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var response in responses)
            {
                response?.Dispose();
            }

            foreach (var task in reading)
            {
                if (task is not null)
                {
                    await Task.WhenAny(task);
                }
            }
        }

        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "every subscription ended");
    }

    private static async Task ReadAsync(Stream body, FrameIdReader reader, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                reader.Feed(buffer.AsSpan(0, read));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
            // The test ended the stream.
        }
        finally
        {
            await body.DisposeAsync();
        }
    }
}
