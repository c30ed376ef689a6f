using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Clients resume with Last-Event-ID across restarts. What holds depends on what restarted: an
/// HTTP host over a broadcaster that lives on loses nothing its replay ring holds; a new process
/// has a new, empty ring, and its clients are told so.
/// </summary>
public sealed class RestartTests
{
    private const int Clients = 10;

    private static readonly GraphEventStreamClientOptions Fast = new()
    {
        ReconnectDelay = TimeSpan.FromMilliseconds(50),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
    };

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["GraphEvents:Stream:RetryInterval"] = "00:00:00.100",
        ["GraphEvents:Stream:RetryAfter"] = "00:00:01",
    };

    private static readonly DateTimeOffset Timestamp = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task When_the_http_host_restarts_over_the_same_broadcaster_every_client_gets_every_event_in_order()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { ReplayCapacity = 1_024 });
        void Share(WebApplicationBuilder builder)
        {
            // Instances, not factories: the container would dispose a factory's broadcaster with
            // the first host, and the second host needs it.
            builder.Services.Replace(ServiceDescriptor.Singleton(broadcaster));
            builder.Services.Replace(ServiceDescriptor.Singleton<IGraphEventPublisher>(broadcaster));
            builder.Services.Replace(ServiceDescriptor.Singleton<IGraphEventSubscriber>(broadcaster));
        }

        using var database = new TempDatabase();
        var first = await RunningServer.StartAsync(database.Path, settings: Settings, configure: Share);
        var port = first.Port;
        using var http = new HttpClient();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var readers = Enumerable.Range(0, Clients).Select(_ => new ClientReader(http, new Uri(first.StreamUri().ToString()), reading.Token)).ToList();
        await Eventually.HoldsAsync(() => readers.All(r => r.Events.Any(e => e is ConnectedEvent)), "every client connected");

        var published = 0;
        async Task PublishAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                await broadcaster.PublishAsync(new EdgeCreatedEvent($"e:{published++}", "x", 0.5, Timestamp), Token);
            }
        }

        await PublishAsync(100);
        await Eventually.HoldsAsync(() => readers.All(r => r.Edges.Count == 100), "every client received the first 100 events");
        await first.StopAsync();

        // Published while no HTTP host runs: the ring (1,024) holds all of it.
        await PublishAsync(500);
        await using var second = await RunningServer.StartAsync(database.Path, port, Settings, Share);
        await PublishAsync(100);
        await Eventually.HoldsAsync(() => readers.All(r => r.Edges.Count >= 700), () => $"every client received 700 events; least {readers.Min(r => r.Edges.Count)}");
        await reading.CancelAsync();
        await Task.WhenAll(readers.Select(r => r.Completion));

        foreach (var reader in readers)
        {
            Assert.Equal(Enumerable.Range(0, 700).Select(i => $"e:{i}"), reader.Edges);
            Assert.DoesNotContain(reader.Events, e => e is EventsLostEvent);
            Assert.Equal(2, reader.Client.ConnectionCount);
        }
    }

    [Fact]
    public async Task A_resume_within_the_ring_or_the_log_replays_exactly_the_gap_and_one_older_than_the_log_is_told_how_many_were_lost()
    {
        // The ring (memory) holds the last 100, the log (the database) the last 200.
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["GraphEvents:ReplayCapacity"] = "100",
            ["GraphEvents:EventLog:MaxEvents"] = "200",
        });

        // Not LastEventId right away: the server publishes its own start-up events (graph_synced,
        // metrics_updated) before StartAsync returns, but the pump may broadcast them after it,
        // and then this test's ids would not start at the value read here.
        var marker = await server.BroadcastMarkerAsync();
        var start = EventIds.Offset(marker);
        for (var i = 0; i < 300; i++)
        {
            await server.Broadcaster.PublishAsync(new EdgeCreatedEvent($"e:{i}", "x", 0.5, Timestamp), Token);
        }

        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().LastEventId == EventIds.At(marker, start + 300), "every event was broadcast");
        var last = start + 300;

        // Within the ring: the 50 events after the id, nothing else, no loss notice.
        await using (var within = await RecordingStream.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", EventIds.At(marker, last - 50))))
        {
            await Eventually.HoldsAsync(() => within.CountFrames("edge_created") == 50, "the gap was replayed");
            var frames = within.Frames();
            Assert.Equal("connected", frames[0].EventType);
            Assert.Equal(Enumerable.Range(1, 50).Select(i => EventIds.At(marker, last - 50 + i)), frames.Skip(1).Select(f => f.Id));
            Assert.DoesNotContain(frames, f => f.EventType == "events_lost");
        }

        // Older than the ring, within the log: read from the database, then the ring, exactly, no notice.
        await using (var fromLog = await RecordingStream.OpenAsync(server.Client, server.StreamUri($"?last_event_id={EventIds.At(marker, last - 150)}")))
        {
            await Eventually.HoldsAsync(() => fromLog.CountFrames("edge_created") == 150, "the log and the ring were replayed");
            var frames = fromLog.Frames();
            Assert.Equal("connected", frames[0].EventType);
            Assert.Equal(Enumerable.Range(1, 150).Select(i => EventIds.At(marker, last - 150 + i)), frames.Skip(1).Select(f => f.Id));
        }

        // Older than the log: told first, with the exact count, then everything the log holds.
        await using var older = await RecordingStream.OpenAsync(server.Client, server.StreamUri($"?last_event_id={EventIds.At(marker, start + 10)}"));
        await Eventually.HoldsAsync(() => older.CountFrames("edge_created") == 200, "the log was replayed");
        var replay = older.Frames();
        Assert.Equal("connected", replay[0].EventType);
        Assert.Equal("events_lost", replay[1].EventType);
        using var lost = JsonDocument.Parse(replay[1].Data);
        Assert.Equal(EventsLostReasons.ReplayWindowExceeded, lost.RootElement.GetProperty("reason").GetString());
        Assert.Equal(90, lost.RootElement.GetProperty("lost_count").GetInt64());
        Assert.Equal(Enumerable.Range(101, 200).Select(i => EventIds.At(marker, start + i)), replay.Skip(2).Select(f => f.Id));
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Memory")]
    public async Task After_a_process_restart_every_client_resumes_exactly_from_the_durable_log_or_is_told_its_gap_is_lost(string eventLog)
    {
        var settings = new Dictionary<string, string>(Settings) { ["Server:EventLog"] = eventLog };
        using var database = new TempDatabase();
        var first = await RunningServer.StartAsync(database.Path, settings: settings);
        var port = first.Port;
        using var http = new HttpClient();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var readers = Enumerable.Range(0, Clients).Select(_ => new ClientReader(http, new Uri(first.StreamUri().ToString()), reading.Token)).ToList();
        await Eventually.HoldsAsync(() => readers.All(r => r.Events.Any(e => e is ConnectedEvent)), "every client connected");

        for (var i = 0; i < 50; i++)
        {
            await first.Broadcaster.PublishAsync(new EdgeCreatedEvent($"before:{i}", "x", 0.5, Timestamp), Token);
        }

        await Eventually.HoldsAsync(() => readers.All(r => r.Edges.Count == 50), "every client received the first 50 events");

        // Published while the clients are away (they reconnect only once the new process listens).
        await first.StopAsync();
        await using var second = await RunningServer.StartAsync(database.Path, port, settings);

        // Every client is back (a new in-memory log starts them live after the notice, so the new
        // event must come after they are; the durable log would replay it either way).
        await Eventually.HoldsAsync(
            () => readers.All(r => r.Events.Any(e => e is EventsLostEvent or GraphSyncedEvent)),
            "every client reconnected");
        await second.Broadcaster.PublishAsync(new EdgeCreatedEvent("after", "x", 0.5, Timestamp), Token);
        await Eventually.HoldsAsync(() => readers.All(r => r.Edges.Contains("after")), "every client received the new event");
        await reading.CancelAsync();
        await Task.WhenAll(readers.Select(r => r.Completion));

        foreach (var reader in readers)
        {
            Assert.Equal([.. Enumerable.Range(0, 50).Select(i => $"before:{i}"), "after"], reader.Edges);
            if (eventLog == "Sqlite")
            {
                // The log is in the database: the new process has the same epoch and offsets, so the
                // client's Last-Event-ID is one of its own, and the gap (the second run's start-up
                // events) is replayed, not reported lost.
                Assert.DoesNotContain(reader.Events, e => e is EventsLostEvent);
                Assert.Contains(reader.Events, e => e is GraphSyncedEvent);
            }
            else
            {
                // A new in-memory log, a new epoch: the old id is another log's, and the client is told.
                var lost = Assert.Single(reader.Events.OfType<EventsLostEvent>());
                Assert.Equal(EventsLostReasons.UnknownLastEventId, lost.Reason);
            }
        }
    }

    /// <summary>The library's own client, reconnecting with Last-Event-ID, read in the background.</summary>
    private sealed class ClientReader
    {
        private readonly List<GraphEvent> _seen = [];

        public ClientReader(HttpClient http, Uri uri, CancellationToken cancellationToken)
        {
            Client = new GraphEventStreamClient(http, uri, Fast);
            Completion = Task.Run(async () =>
            {
                try
                {
                    await foreach (var e in Client.ReadAllAsync(cancellationToken))
                    {
                        lock (_seen)
                        {
                            _seen.Add(e);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }, CancellationToken.None);
        }

        public GraphEventStreamClient Client { get; }

        public Task Completion { get; }

        public List<GraphEvent> Events
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public List<string> Edges => [.. Events.OfType<EdgeCreatedEvent>().Select(e => e.FromToolId)];
    }
}
