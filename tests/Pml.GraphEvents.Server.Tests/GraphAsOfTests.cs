using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>
/// <c>GET /graph</c>'s <c>as_of_event_id</c> against the real server: a client that loads the
/// snapshot and then streams from that id sees every later change exactly once, however the
/// fetch, the stream's opening and concurrent ingest interleave.
/// </summary>
public sealed class GraphAsOfTests : IAsyncLifetime
{
    private TestHost _server = null!;
    private HttpClient _http = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await RunningServer.StartAsync();
        _http = _server.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task The_snapshot_names_the_last_event_it_reflects_and_a_stream_from_it_sends_only_later_changes()
    {
        var before = await GraphSnapshot.GetAsync(_http);
        Assert.Equal(JsonValueKind.String, before.AsOfKind);
        Assert.NotEmpty(before.AsOf);

        await PostAsync("""{"execution_id":"asof-1","tool_ids":["git:status","git:commit"]}""");
        var after = await GraphSnapshot.GetAsync(_http);
        Assert.NotEqual(before.AsOf, after.AsOf);
        Assert.Equal((1, 0.5), after.Edges[("git:status", "git:commit")]);

        // From the snapshot's id: connected at that id, then nothing the snapshot already holds.
        await using var stream = await SseClient.OpenAsync(_server.Client, _server.StreamUri("?last_event_id=" + Uri.EscapeDataString(after.AsOf)));
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        var connected = await stream.ReadAsync();
        Assert.Equal("connected", connected.EventType);
        Assert.Equal(after.AsOf, connected.EventId);

        // The next frame is the next change's first event, at the very next offset of the same log.
        await PostAsync("""{"execution_id":"asof-2","tool_ids":["git:status","git:commit","git:push"]}""");
        var frames = await ReadThroughAsync(stream, "metrics_updated");
        Assert.Equal(
            ["edge_updated", "edge_created", "workflow_executed", "metrics_updated"],
            frames.Select(f => f.EventType));
        Assert.All(frames, f => Assert.Equal(EventIds.Epoch(after.AsOf), EventIds.Epoch(f.EventId)));
        Assert.Equal(
            Enumerable.Range(1, frames.Count).Select(i => EventIds.Offset(after.AsOf) + i),
            frames.Select(f => EventIds.Offset(f.EventId)));
        Assert.DoesNotContain(frames, f => f.Data.Contains("asof-1", StringComparison.Ordinal));

        // And the snapshot after that change is as of its last event.
        var latest = await GraphSnapshot.GetAsync(_http);
        Assert.Equal(frames[^1].EventId, latest.AsOf);
        Assert.Equal((2, 0.55), latest.Edges[("git:status", "git:commit")]);
    }

    [Fact]
    public async Task A_stream_from_an_older_snapshots_id_replays_exactly_the_changes_since_then()
    {
        var before = await GraphSnapshot.GetAsync(_http);
        await PostAsync("""[{"execution_id":"asof-3","tool_ids":["git:status","git:diff"]},{"execution_id":"asof-4","tool_ids":["git:status","git:diff"]}]""");
        var after = await GraphSnapshot.GetAsync(_http);

        // The header carries the position as well as the query (an EventSource's own reconnect).
        await using var stream = await SseClient.OpenAsync(_server.Client, _server.StreamUri(), r => r.Headers.Add("Last-Event-ID", before.AsOf));
        Assert.Equal("connected", (await stream.ReadAsync()).EventType);
        var frames = await ReadThroughAsync(stream, "metrics_updated");

        Assert.Equal(["edge_created", "workflow_executed", "edge_updated", "workflow_executed", "metrics_updated"], frames.Select(f => f.EventType));
        Assert.Equal(after.AsOf, frames[^1].EventId);
        var folded = new EdgeFold(before.Edges);
        foreach (var frame in frames)
        {
            folded.Apply(frame);
        }

        Assert.Empty(folded.Problems);
        Assert.Equal(after.Edges, folded.Edges);
    }

    [Fact]
    public async Task Clients_that_load_then_stream_during_concurrent_ingest_fold_to_the_final_graph_exactly()
    {
        const int Posters = 4;
        const int PostsEach = 25;
        const int Clients = 10;
        const int TotalPosts = Posters * PostsEach;

        var start = await GraphSnapshot.GetAsync(_http);

        // A few of the catalog's tools, so that most observations update an edge rather than create one.
        var tools = start.NodeIds.Order(StringComparer.Ordinal).Take(8).ToArray();
        Assert.Equal(8, tools.Length);

        var posted = 0;
        var clientsLoaded = 0;
        var observations = 0;

        async Task PostRoundsAsync(int poster)
        {
            var random = new Random(1_000 + poster);
            using var http = _server.CreateClient();
            for (var round = 0; round < PostsEach; round++)
            {
                // Keep ingest and the clients' loads interleaved whatever the machine's speed: round
                // k waits until (k + 1) × 40 % of the clients have loaded, so the last round waits for
                // all of them and every client loads before ingest ends (clients wait for posts the
                // same way below: client i for 10 i posts, which every poster has made by then, so
                // neither can wait for the other for ever).
                var due = (round + 1) * Clients / PostsEach;
                await Eventually.HoldsAsync(() => Volatile.Read(ref clientsLoaded) >= due, $"client {due} to load before round {round}");

                var executions = new string[2];
                for (var e = 0; e < executions.Length; e++)
                {
                    var chain = tools.OrderBy(_ => random.Next()).Take(random.Next(2, 6)).ToArray();
                    Interlocked.Add(ref observations, chain.Length - 1);
                    executions[e] = JsonSerializer.Serialize(new { execution_id = $"fold-{poster}-{round}-{e}", tool_ids = chain });
                }

                using var response = await http.PostAsync("executions", RunningServer.Json($"[{string.Join(',', executions)}]"), Token);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Interlocked.Increment(ref posted);
            }
        }

        var posters = Enumerable.Range(0, Posters).Select(p => Task.Run(() => PostRoundsAsync(p), Token)).ToArray();

        var clients = new List<FoldingClient>(Clients);
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                var due = i * TotalPosts / Clients;
                await Eventually.HoldsAsync(() => Volatile.Read(ref posted) >= due, $"{due} posts before client {i}");
                clients.Add(await FoldingClient.StartAsync(_server, _http, i));
                Interlocked.Increment(ref clientsLoaded);
            }

            await Task.WhenAll(posters);

            // Every client streams up to the last event the final snapshot reflects.
            var final = await GraphSnapshot.GetAsync(_http);
            foreach (var client in clients)
            {
                await Eventually.HoldsAsync(
                    () => client.LastId == final.AsOf || client.Failure is not null,
                    () => $"client {client.Index} (loaded as of {client.LoadedAsOf}) to reach {final.AsOf}; it is at {client.LastId}");
                await client.StopAsync();
            }

            // Every 202 is in the graph: as many observations as the chains made.
            Assert.Equal(Volatile.Read(ref observations), final.Edges.Values.Sum(e => e.Count));

            // All but the first client loaded strictly during ingest.
            foreach (var client in clients.Skip(1))
            {
                Assert.InRange(EventIds.Offset(client.LoadedAsOf), EventIds.Offset(start.AsOf) + 1, EventIds.Offset(final.AsOf) - 1);
            }

            foreach (var client in clients)
            {
                Assert.Null(client.Failure);
                Assert.True(client.Fold.Problems.Count == 0, $"client {client.Index}: {string.Join("; ", client.Fold.Problems)}");
                Assert.Equal(final.Edges, client.Fold.Edges);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.StopAsync();
            }
        }
    }

    private async Task PostAsync(string json)
    {
        using var response = await _http.PostAsync("executions", RunningServer.Json(json), Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Reads frames up to and including the first of <paramref name="type"/>, failing on <c>events_lost</c>.</summary>
    private static async Task<List<SseItem<string>>> ReadThroughAsync(SseClient stream, string type)
    {
        List<SseItem<string>> frames = [];
        while (frames.Count < 1_000)
        {
            var frame = await stream.ReadAsync();
            if (frame.EventType == "heartbeat")
            {
                continue;
            }

            Assert.NotEqual("events_lost", frame.EventType);
            frames.Add(frame);
            if (frame.EventType == type)
            {
                return frames;
            }
        }

        Assert.Fail($"No {type} in {frames.Count} frames.");
        return frames;
    }

    /// <summary>What <c>GET /graph</c> answered: its id, its tools, and its edges with their counts and confidences.</summary>
    private sealed record GraphSnapshot(string AsOf, JsonValueKind AsOfKind, IReadOnlyList<string> NodeIds, Dictionary<(string From, string To), (int Count, double Confidence)> Edges)
    {
        public static async Task<GraphSnapshot> GetAsync(HttpClient http)
        {
            using var body = JsonDocument.Parse(await http.GetStringAsync("graph", Token));
            var root = body.RootElement;
            var asOf = root.GetProperty("as_of_event_id");
            var edges = root.GetProperty("edges").EnumerateArray().ToDictionary(
                e => (e.GetProperty("from").GetString()!, e.GetProperty("to").GetString()!),
                e => (e.GetProperty("observed_count").GetInt32(), e.GetProperty("confidence").GetDouble()));
            var nodes = root.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()!).ToArray();
            return new GraphSnapshot(asOf.ValueKind == JsonValueKind.String ? asOf.GetString()! : "", asOf.ValueKind, nodes, edges);
        }
    }

    /// <summary>
    /// A snapshot's edges with edge events applied as a client applies them: <c>edge_created</c> is
    /// count 1 at its confidence, <c>edge_updated</c> sets its count and new confidence. Anything
    /// that betrays a gap or a double count (a created edge that exists, an update of an edge that
    /// does not, a count that does not go up by one, an old confidence that is not the current one,
    /// <c>events_lost</c>) is kept as a problem.
    /// </summary>
    private sealed class EdgeFold(IReadOnlyDictionary<(string From, string To), (int Count, double Confidence)> snapshot)
    {
        public Dictionary<(string From, string To), (int Count, double Confidence)> Edges { get; } = new(snapshot);

        public List<string> Problems { get; } = [];

        public void Apply(SseItem<string> frame)
        {
            switch (frame.EventType)
            {
                case "events_lost":
                    Problems.Add($"events_lost at {frame.EventId}: {frame.Data}");
                    return;
                case "edge_created" or "edge_updated":
                    break;
                default:
                    return;
            }

            using var data = JsonDocument.Parse(frame.Data);
            var d = data.RootElement;
            var key = (d.GetProperty("from_tool_id").GetString()!, d.GetProperty("to_tool_id").GetString()!);
            var known = Edges.TryGetValue(key, out var current);
            if (frame.EventType == "edge_created")
            {
                if (known)
                {
                    Problems.Add($"{frame.EventId}: edge_created for {key}, which is there already (×{current.Count})");
                }

                Edges[key] = (1, d.GetProperty("confidence_score").GetDouble());
                return;
            }

            var count = d.GetProperty("observed_count").GetInt32();
            if (!known)
            {
                Problems.Add($"{frame.EventId}: edge_updated ×{count} for {key}, which is not there");
            }
            else if (count != current.Count + 1 || d.GetProperty("old_confidence").GetDouble() != current.Confidence)
            {
                Problems.Add($"{frame.EventId}: edge_updated ×{count} (from {d.GetProperty("old_confidence").GetDouble()}) for {key} at ×{current.Count} ({current.Confidence})");
            }

            Edges[key] = (count, d.GetProperty("new_confidence").GetDouble());
        }
    }

    /// <summary>A client that loaded <c>GET /graph</c>, streams from its <c>as_of_event_id</c>, and folds edge events in the background.</summary>
    private sealed class FoldingClient
    {
        private readonly SseClient _stream;
        private Task _reading = Task.CompletedTask;
        private volatile string? _lastId;
        private volatile string? _failure;
        private volatile bool _stopped;

        private FoldingClient(int index, GraphSnapshot snapshot, SseClient stream)
        {
            Index = index;
            LoadedAsOf = snapshot.AsOf;
            Fold = new EdgeFold(snapshot.Edges);
            _stream = stream;
            _lastId = snapshot.AsOf;
        }

        public int Index { get; }

        public string LoadedAsOf { get; }

        /// <summary>Read only after <see cref="StopAsync"/>.</summary>
        public EdgeFold Fold { get; }

        /// <summary>The id of the last frame read (the snapshot's until the first).</summary>
        public string? LastId => _lastId;

        public string? Failure => _failure;

        public static async Task<FoldingClient> StartAsync(TestHost server, HttpClient http, int index)
        {
            var snapshot = await GraphSnapshot.GetAsync(http);

            // Ingest goes on between the fetch and the stream's opening: that gap is what the id closes.
            var stream = await SseClient.OpenAsync(server.Client, server.StreamUri("?last_event_id=" + Uri.EscapeDataString(snapshot.AsOf)));
            Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
            var client = new FoldingClient(index, snapshot, stream);
            client._reading = Task.Run(client.ReadAsync, Token);
            return client;
        }

        public async Task StopAsync()
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            await _stream.DisposeAsync();
            await _reading;
        }

        private async Task ReadAsync()
        {
            try
            {
                var connected = await _stream.ReadAsync();
                if (connected.EventType != "connected" || connected.EventId != LoadedAsOf)
                {
                    _failure = string.Create(CultureInfo.InvariantCulture, $"first frame {connected.EventType} at {connected.EventId}, not connected at {LoadedAsOf}");
                    return;
                }

                while (await _stream.NextAsync() is { } frame)
                {
                    Fold.Apply(frame);
                    if (!string.IsNullOrEmpty(frame.EventId))
                    {
                        _lastId = frame.EventId;
                    }
                }

                if (!_stopped)
                {
                    _failure = "the stream ended";
                }
            }
            catch (Exception ex) when (_stopped && ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
            {
                // StopAsync aborted the read in flight.
            }
            catch (Exception ex)
            {
                _failure = ex.ToString();
            }
        }
    }
}
