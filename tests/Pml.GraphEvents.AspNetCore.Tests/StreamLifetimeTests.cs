using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>
/// <see cref="GraphEventStreamWriterOptions.MaxStreamDuration"/>: every stream closes cleanly within its
/// lifetime, so a client that never reads cannot hold a slot for ever on a quiet stream, and a
/// client that reads reconnects and misses nothing.
/// </summary>
public sealed class StreamLifetimeTests
{
    [Fact]
    public async Task A_stream_stays_open_for_nine_tenths_of_its_lifetime_and_closes_cleanly_by_its_end()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        var logs = new ListLoggerProvider();
        await using var server = await StreamServer.StartAsync(
            stream: o =>
            {
                o.MaxStreamDuration = TimeSpan.FromMinutes(1);

                // Not under test, and on this clock: an advance past a flush that is still
                // returning would end the stream as timed out instead.
                o.WriteTimeout = TimeSpan.FromHours(1);
            },
            configure: b =>
            {
                b.Services.AddSingleton<TimeProvider>(time);
                b.Logging.AddProvider(logs);
            });
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal("connected", (await client.ReadAsync()).EventType);

        // Just short of the shortest lifetime the jitter can draw: still streaming.
        time.Advance(TimeSpan.FromSeconds(54) - TimeSpan.FromMilliseconds(1));
        await server.Broadcaster.PublishAsync([SampleEvents.Edge(0)]);
        Assert.Equal(1, EventIds.Offset((await ReadPastHeartbeatsAsync(client))?.EventId));
        Assert.Equal(1, server.Broadcaster.SubscriberCount);

        // At the full lifetime it has ended: the chunked body is complete (not an aborted
        // connection, which would throw), and the slot is free.
        time.Advance(TimeSpan.FromSeconds(6) + TimeSpan.FromMilliseconds(1));
        Assert.Null(await ReadPastHeartbeatsAsync(client));
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "the subscription left");
        await Eventually.HoldsAsync(() => logs.Entries.Any(e => e.Id.Id == 2), "the disconnect was logged");
        Assert.Contains(logs.Entries, e => e.Id.Id == 2 && e.Message.Contains("disconnected: MaxDurationReached (subscription Disposed)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_lifetime_a_stream_stays_open_for_days()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var server = await StreamServer.StartAsync(
            events: o => o.HeartbeatInterval = TimeSpan.FromDays(1),
            stream: o =>
            {
                o.MaxStreamDuration = null;
                o.WriteTimeout = TimeSpan.FromHours(1);
            },
            configure: b => b.Services.AddSingleton<TimeProvider>(time));
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal("connected", (await client.ReadAsync()).EventType);

        time.Advance(TimeSpan.FromDays(3) - TimeSpan.FromMinutes(1));
        await server.Broadcaster.PublishAsync([SampleEvents.Edge(0)]);
        Assert.Equal(1, EventIds.Offset((await ReadPastHeartbeatsAsync(client))?.EventId));
        Assert.Equal(1, server.Broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task GraphEventStreamClient_reading_across_lifetime_ends_receives_every_event_exactly_once()
    {
        // A real clock and the shortest lifetime: the client must reconnect several times while
        // events keep coming, and each reconnect resumes with Last-Event-ID from the replay window.
        await using var server = await StreamServer.StartAsync(
            stream: o =>
            {
                o.MaxStreamDuration = TimeSpan.FromSeconds(1);
                o.RetryInterval = TimeSpan.FromMilliseconds(20);
            });
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var client = new GraphEventStreamClient(http, server.StreamUri(), new GraphEventStreamClientOptions { ReconnectDelay = TimeSpan.FromMilliseconds(20) });
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var received = new System.Collections.Concurrent.ConcurrentQueue<GraphEvent>();
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in client.ReadAllAsync(reading.Token))
                {
                    received.Enqueue(e);
                }
            }
            catch (OperationCanceledException) when (reading.IsCancellationRequested)
            {
            }
        }, TestContext.Current.CancellationToken);
        await Eventually.HoldsAsync(() => received.Any(e => e is ConnectedEvent), "the client connected");

        // Published at a steady pace for longer than three lifetimes, so that events fall into
        // every reconnect's gap as well as between them.
        const int Events = 400;
        for (var i = 0; i < Events; i++)
        {
            await server.Broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        await Eventually.HoldsAsync(
            () => received.Count(e => e is EdgeCreatedEvent) >= Events,
            () => $"every event arrived ({received.Count(e => e is EdgeCreatedEvent)} of {Events}, {client.ConnectionCount} connections)");
        await reading.CancelAsync();
        await reader;

        var edges = received.OfType<EdgeCreatedEvent>().Select(e => e.FromToolId).ToList();
        Assert.Equal(Enumerable.Range(0, Events).Select(i => $"tool:{i}"), edges);
        Assert.DoesNotContain(received, e => e is EventsLostEvent);
        Assert.True(client.ConnectionCount >= 3, $"The client connected {client.ConnectionCount} times: the lifetime did not end the streams.");
    }

    /// <summary>The next frame that is not a heartbeat (the fake clock's advances fire heartbeats), or <see langword="null"/> at the end.</summary>
    private static async Task<System.Net.ServerSentEvents.SseItem<string>?> ReadPastHeartbeatsAsync(SseClient client)
    {
        while (true)
        {
            var item = await client.NextAsync();
            if (item is not { EventType: "heartbeat" })
            {
                return item;
            }
        }
    }
}
