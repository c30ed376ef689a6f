using Microsoft.Extensions.Time.Testing;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Graph;

public sealed class ToolGraphEngineTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(IToolGraphEngine Engine, RecordingPublisher Events)> CreateAsync(
        string[] tools, ToolGraphEngineOptions? options = null, IToolGraphStore? store = null, TimeProvider? time = null)
    {
        var events = new RecordingPublisher();
        var engine = ToolGraphEngine.Create(events, store, options, time);
        await engine.RegisterToolsAsync(tools.Select(id => new ToolNode(id)), Ct);
        events.Clear();
        return (engine, events);
    }

    [Fact]
    public async Task New_edge_between_known_tools_is_created_at_one_half()
    {
        var (engine, events) = await CreateAsync(["a", "b"]);

        var snapshot = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b"]), Ct);

        Assert.True(snapshot.TryGetEdge("a", "b", out var edge));
        Assert.Equal(0.5, edge.ConfidenceScore);
        Assert.Equal(1, edge.ObservedCount);
        var created = Assert.IsType<EdgeCreatedEvent>(events.Events[0]);
        Assert.Equal(("a", "b", 0.5), (created.FromToolId, created.ToToolId, created.ConfidenceScore));
    }

    [Fact]
    public async Task Existing_edge_is_updated_to_0_55_then_capped_at_1_on_the_8th_update()
    {
        var (engine, events) = await CreateAsync(["a", "b"]);
        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w0", ["a", "b"]), Ct);
        events.Clear();

        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b"]), Ct);
        var first = Assert.IsType<EdgeUpdatedEvent>(events.Events[0]);
        Assert.Equal(0.5, first.OldConfidence);
        Assert.Equal(0.55, first.NewConfidence, 12);
        Assert.Equal(2, first.ObservedCount);

        // 0.5 × 1.1^7 = 0.974 < 1, and 0.5 × 1.1^8 = 1.072 is capped.
        for (var update = 2; update <= 8; update++)
        {
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain($"w{update}", ["a", "b"]), Ct);
        }

        var updates = events.Events.OfType<EdgeUpdatedEvent>().ToArray();
        Assert.Equal(8, updates.Length);
        Assert.Equal(0.5 * Math.Pow(1.1, 7), updates[6].NewConfidence, 12);
        Assert.True(updates[6].NewConfidence < 1.0);
        Assert.Equal(1.0, updates[7].NewConfidence);
        Assert.Equal(9, updates[7].ObservedCount);
        Assert.True(engine.Snapshot.TryGetEdge("a", "b", out var edge));
        Assert.Equal((1.0, 9), (edge.ConfidenceScore, edge.ObservedCount));
    }

    [Fact]
    public async Task Unknown_tools_are_ignored_by_default_but_listed_in_workflow_executed()
    {
        var (engine, events) = await CreateAsync(["a", "b"]);

        var snapshot = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "ghost", "b"]), Ct);

        Assert.Empty(snapshot.Edges);
        Assert.Equal(2, snapshot.Nodes.Count);
        Assert.Collection(
            events.Events,
            e => Assert.Equal(["a", "ghost", "b"], Assert.IsType<WorkflowExecutedEvent>(e).ToolIds),
            e => Assert.IsType<MetricsUpdatedEvent>(e));
    }

    [Fact]
    public async Task Unknown_tools_are_registered_on_first_sight_when_the_option_is_set()
    {
        var (engine, events) = await CreateAsync(["a"], new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });

        var snapshot = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "new"]), Ct);

        Assert.True(snapshot.ContainsTool("new"));
        Assert.True(snapshot.TryGetEdge("a", "new", out _));
        Assert.IsType<EdgeCreatedEvent>(events.Events[0]);
        Assert.Equal(2, Assert.IsType<MetricsUpdatedEvent>(events.Events[^1]).NodeCount);
    }

    [Fact]
    public async Task Self_loops_are_skipped_and_the_rest_of_the_execution_is_learned()
    {
        var (engine, events) = await CreateAsync(["a", "b"]);

        var snapshot = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "a", "b"]), Ct);

        Assert.False(snapshot.TryGetEdge("a", "a", out _));
        var edge = Assert.Single(snapshot.Edges);
        Assert.Equal(("a", "b"), (edge.FromToolId, edge.ToToolId));
        Assert.Single(events.Events.OfType<EdgeCreatedEvent>());
    }

    [Fact]
    public async Task Events_come_in_task_order_then_workflow_executed_then_metrics_updated()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var (engine, events) = await CreateAsync(["a", "b", "c"], time: time);
        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w0", ["b", "c"]), Ct);
        events.Clear();

        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b", "c"], success: false, executionTimeMs: 1234.5), Ct);

        Assert.Collection(
            events.Events,
            e => Assert.Equal(("a", "b"), (((EdgeCreatedEvent)e).FromToolId, ((EdgeCreatedEvent)e).ToToolId)),
            e => Assert.Equal(("b", "c", 2), (((EdgeUpdatedEvent)e).FromToolId, ((EdgeUpdatedEvent)e).ToToolId, ((EdgeUpdatedEvent)e).ObservedCount)),
            e =>
            {
                var executed = Assert.IsType<WorkflowExecutedEvent>(e);
                Assert.Equal("w1", executed.WorkflowId);
                Assert.False(executed.Success);
                Assert.Equal(1234.5, executed.ExecutionTimeMs);
            },
            e =>
            {
                var metrics = Assert.IsType<MetricsUpdatedEvent>(e);
                Assert.Equal((3, 2), (metrics.NodeCount, metrics.EdgeCount));
                Assert.Equal(2.0 / 6, metrics.Density, 12);
                Assert.Equal(3, metrics.PageRankTop10.Count);
                Assert.Equal(1.0, metrics.PageRankTop10.Sum(s => s.Score), 9);
            });
        Assert.All(events.Events, e => Assert.Equal(time.GetUtcNow(), e.Timestamp));
    }

    [Fact]
    public async Task Events_reach_a_broadcaster_subscriber_in_order()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var engine = ToolGraphEngine.Create(broadcaster);
        using var subscription = broadcaster.Subscribe();
        await engine.RegisterToolsAsync([new ToolNode("a"), new ToolNode("b")], Ct);

        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b"]), Ct);

        List<string> types = [];
        await foreach (var frame in subscription.ReadAllAsync(Ct))
        {
            types.Add(frame.Event.EventType);
            if (frame.Event is WorkflowExecutedEvent)
            {
                types.Add((await subscription.ReadAllAsync(Ct).FirstAsync(Ct)).EventType);
                break;
            }
        }

        // The registration of the two tools comes first, with its own metrics_updated.
        Assert.Equal(["connected", "metrics_updated", "edge_created", "workflow_executed", "metrics_updated"], types);
    }

    [Fact]
    public async Task A_batch_publishes_each_executions_events_in_order_then_one_metrics_updated()
    {
        var (engine, events) = await CreateAsync(["a", "b", "c"]);

        var result = await engine.UpdateFromExecutionsAsync(
            [WorkflowExecution.Chain("w1", ["a", "b"]), WorkflowExecution.Chain("w2", ["b", "c"]), WorkflowExecution.Chain("w3", ["a", "b"])],
            Ct);

        Assert.Equal(["w1", "w2", "w3"], result.Learned);
        Assert.Empty(result.Duplicates);
        Assert.Same(engine.Snapshot, result.Snapshot);
        Assert.Null(result.Snapshot.AsOfEventId);
        Assert.Equal(
            ["edge_created", "workflow_executed", "edge_created", "workflow_executed", "edge_updated", "workflow_executed", "metrics_updated"],
            events.Events.Select(e => e.EventType));
        Assert.Equal(["w1", "w2", "w3"], events.Events.OfType<WorkflowExecutedEvent>().Select(e => e.WorkflowId));

        // The one metrics_updated is the graph after the whole batch.
        var metrics = Assert.IsType<MetricsUpdatedEvent>(events.Events[^1]);
        Assert.Equal((3, 2), (metrics.NodeCount, metrics.EdgeCount));
        Assert.True(result.Snapshot.TryGetEdge("a", "b", out var ab));
        Assert.Equal(2, ab.ObservedCount);
    }

    [Fact]
    public async Task An_execution_id_seen_before_or_earlier_in_the_batch_is_a_duplicate_and_learned_once()
    {
        var (engine, events) = await CreateAsync(["a", "b"]);
        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w0", ["a", "b"]), Ct);
        events.Clear();

        var result = await engine.UpdateFromExecutionsAsync(
            [WorkflowExecution.Chain("w0", ["a", "b"]), WorkflowExecution.Chain("w1", ["a", "b"]), WorkflowExecution.Chain("w1", ["a", "b"])],
            Ct);

        Assert.Equal(["w1"], result.Learned);
        Assert.Equal(["w0", "w1"], result.Duplicates);
        Assert.True(result.Snapshot.TryGetEdge("a", "b", out var edge));
        Assert.Equal(2, edge.ObservedCount);
        Assert.Equal(["edge_updated", "workflow_executed", "metrics_updated"], events.Events.Select(e => e.EventType));

        // A batch of duplicates only changes nothing and publishes nothing.
        events.Clear();
        var version = engine.Snapshot.Version;
        var again = await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w1", ["a", "b"])], Ct);
        Assert.Empty(again.Learned);
        Assert.Equal(["w1"], again.Duplicates);
        Assert.Equal(version, again.Snapshot.Version);
        Assert.Empty(events.Events);
    }

    [Fact]
    public async Task A_batch_is_one_block_of_consecutive_ids_and_its_snapshot_is_as_of_the_last()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var engine = ToolGraphEngine.Create(broadcaster, options: new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        using var subscription = broadcaster.Subscribe();
        Assert.Single(await subscription.ReadAsync(1));

        var result = await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w1", ["a", "b"]), WorkflowExecution.Chain("w2", ["b", "c"])], Ct);

        // edge a->b, workflow_executed, edge b->c, workflow_executed, metrics_updated: one block.
        var frames = await subscription.ReadAsync(5);
        Assert.Equal([1L, 2, 3, 4, 5], frames.Select(EventIdTesting.OffsetOf));
        Assert.Single(frames, f => f.Event is MetricsUpdatedEvent);
        Assert.IsType<MetricsUpdatedEvent>(frames[^1].Event);
        Assert.Equal(frames[^1].Id, result.Snapshot.AsOfEventId);
        Assert.Equal(broadcaster.GetStatistics().LastEventId, engine.Snapshot.AsOfEventId);

        // A reader of the snapshot resumes from its id exactly: nothing of the batch again, and
        // every later change.
        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = result.Snapshot.AsOfEventId });
        var connected = Assert.Single(await resumed.ReadAsync(1));
        Assert.Equal(result.Snapshot.AsOfEventId, connected.Id);
        Assert.False(resumed.TryRead(out _));

        var next = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w3", ["c", "a"]), Ct);
        var later = await resumed.ReadAsync(3);
        Assert.Equal([6L, 7, 8], later.Select(EventIdTesting.OffsetOf));
        Assert.Equal(later[^1].Id, next.AsOfEventId);
        Assert.False(resumed.TryRead(out _));
    }

    [Fact]
    public async Task A_dependency_met_twice_in_one_execution_is_observed_twice()
    {
        var (engine, events) = await CreateAsync(["a", "b"]);

        var snapshot = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b", "a", "b"]), Ct);

        Assert.True(snapshot.TryGetEdge("a", "b", out var ab));
        Assert.Equal((0.55, 2), (Math.Round(ab.ConfidenceScore, 12), ab.ObservedCount));
        Assert.True(snapshot.TryGetEdge("b", "a", out var ba));
        Assert.Equal(1, ba.ObservedCount);
        Assert.Equal(["edge_created", "edge_created", "edge_updated", "workflow_executed", "metrics_updated"], events.Events.Select(e => e.EventType));
    }

    [Fact]
    public async Task Tasks_with_several_dependencies_make_one_edge_per_dependency()
    {
        var (engine, _) = await CreateAsync(["fetch", "parse", "merge"]);
        var execution = new WorkflowExecution(
            "dag",
            [
                new WorkflowTask("t1", "fetch", []),
                new WorkflowTask("t2", "parse", ["t1"]),
                new WorkflowTask("t3", "merge", ["t1", "t2"]),
            ],
            true,
            50);

        var snapshot = await engine.UpdateFromExecutionAsync(execution, Ct);

        Assert.Equal([("fetch", "parse"), ("fetch", "merge"), ("parse", "merge")], snapshot.Edges.Select(e => (e.FromToolId, e.ToToolId)));
    }

    [Fact]
    public async Task A_dependency_on_a_missing_task_is_rejected_before_anything_changes()
    {
        var (engine, events) = await CreateAsync(["a", "b"]);
        var execution = new WorkflowExecution("bad", [new WorkflowTask("t1", "a", []), new WorkflowTask("t2", "b", ["nope"])], true, 1);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await engine.UpdateFromExecutionAsync(execution, Ct));

        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
        Assert.Empty(events.Events);
        Assert.Empty(engine.Snapshot.Edges);
    }

    [Fact]
    public async Task A_store_failure_leaves_the_graph_unchanged_and_publishes_nothing()
    {
        var store = new FailingStore();
        var (engine, events) = await CreateAsync(["a", "b"], store: store);
        var before = engine.Snapshot;
        store.Fail = true;

        await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b"]), Ct));

        Assert.Same(before, engine.Snapshot);
        Assert.Empty(events.Events);
        store.Fail = false;
        var after = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w2", ["a", "b"]), Ct);
        Assert.True(after.TryGetEdge("a", "b", out var edge));
        Assert.Equal(1, edge.ObservedCount);
    }

    [Fact]
    public async Task Sync_loads_tools_and_only_edges_above_0_3_whose_two_tools_exist()
    {
        var store = new InMemoryToolGraphStore(
            [new ToolNode("a", "A", "server-1"), new ToolNode("b"), new ToolNode("c")],
            [
                new ToolGraphEdge("a", "b", 0.31, 2),
                new ToolGraphEdge("b", "c", 0.3, 1),
                new ToolGraphEdge("c", "a", 0.29, 1),
                new ToolGraphEdge("a", "missing", 0.9, 5),
                new ToolGraphEdge("missing", "a", 0.9, 5),
            ]);
        var events = new RecordingPublisher();
        var engine = ToolGraphEngine.Create(events, store);

        var snapshot = await engine.SyncAsync(Ct);

        Assert.Equal(["a", "b", "c"], snapshot.Nodes.Select(n => n.Id));
        Assert.Equal("server-1", snapshot.Nodes[0].ServerId);
        var edge = Assert.Single(snapshot.Edges);
        Assert.Equal(new ToolGraphEdge("a", "b", 0.31, 2), edge);
        var synced = Assert.IsType<GraphSyncedEvent>(Assert.Single(events.Events));
        Assert.Equal((3, 1), (synced.NodeCount, synced.EdgeCount));
        Assert.True(synced.SyncDurationMs >= 0);
    }

    [Fact]
    public async Task Sync_then_update_continues_from_the_stored_edge()
    {
        var store = new InMemoryToolGraphStore([new ToolNode("a"), new ToolNode("b")], [new ToolGraphEdge("a", "b", 0.6, 4)]);
        var events = new RecordingPublisher();
        var engine = ToolGraphEngine.Create(events, store);
        await engine.SyncAsync(Ct);

        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b"]), Ct);

        var updated = events.Events.OfType<EdgeUpdatedEvent>().Single();
        Assert.Equal((0.6, 5), (updated.OldConfidence, updated.ObservedCount));
        var stored = await store.LoadAsync(Ct);
        Assert.Equal(5, Assert.Single(stored.Edges).ObservedCount);
    }

    [Fact]
    public async Task Snapshot_exposes_nodes_edges_metrics_and_communities()
    {
        var (engine, _) = await CreateAsync(["a", "b", "c", "lonely"]);
        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b", "c"]), Ct);

        var snapshot = engine.Snapshot;

        Assert.Equal(4, snapshot.Nodes.Count);
        Assert.Equal(2, snapshot.Edges.Count);
        Assert.Equal(4, snapshot.PageRank.Count);
        Assert.Equal(1.0, snapshot.PageRank.Sum(), 9);
        Assert.Equal(snapshot.PageRank[0], snapshot.GetPageRank("a"));
        Assert.Equal(2, snapshot.Metrics.CommunitiesCount);
        Assert.Equal(snapshot.GetCommunity("a"), snapshot.GetCommunity("c"));
        Assert.NotEqual(snapshot.GetCommunity("a"), snapshot.GetCommunity("lonely"));
        Assert.Null(snapshot.GetCommunity("ghost"));
        Assert.Equal("c", snapshot.Metrics.PageRankTop10[0].ToolId);
    }

    [Fact]
    public async Task Top_10_breaks_ties_by_tool_id()
    {
        var ids = Enumerable.Range(0, 12).Select(i => $"t{i:D2}").Reverse().ToArray();
        var (engine, _) = await CreateAsync(ids);

        var top = engine.Snapshot.Metrics.PageRankTop10;

        Assert.Equal(ids.Order(StringComparer.Ordinal).Take(10), top.Select(s => s.ToolId));
    }

    [Fact]
    public async Task Eight_threads_of_1000_executions_give_exact_counts_and_never_interleave_events()
    {
        const int Threads = 8;
        const int PerThread = 1_000;
        string[] tools = ["a", "b", .. Enumerable.Range(0, Threads).Select(k => $"t{k}")];
        var (engine, events) = await CreateAsync(tools);

        using var start = new Barrier(Threads);
        var workers = Enumerable.Range(0, Threads).Select(k => Task.Run(
            async () =>
            {
                start.SignalAndWait(Ct);
                for (var i = 0; i < PerThread; i++)
                {
                    await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain($"{k}/{i}", ["a", "b", $"t{k}"]), Ct);
                }
            },
            Ct)).ToArray();
        await Task.WhenAll(workers);

        var snapshot = engine.Snapshot;
        Assert.True(snapshot.TryGetEdge("a", "b", out var shared));
        Assert.Equal((1.0, Threads * PerThread), (shared.ConfidenceScore, shared.ObservedCount));
        var expected = 0.5;
        for (var i = 1; i < PerThread; i++)
        {
            expected = Math.Min(expected * 1.1, 1.0);
        }

        for (var k = 0; k < Threads; k++)
        {
            Assert.True(snapshot.TryGetEdge("b", $"t{k}", out var own));
            Assert.Equal((expected, PerThread), (own.ConfidenceScore, own.ObservedCount));
        }

        // Each execution published exactly [edge a->b, edge b->tk, workflow_executed, metrics_updated], contiguously.
        var all = events.Events;
        Assert.Equal(Threads * PerThread * 4, all.Count);
        var abCount = 0;
        for (var i = 0; i < all.Count; i += 4)
        {
            var executed = Assert.IsType<WorkflowExecutedEvent>(all[i + 2]);
            var thread = executed.WorkflowId[..executed.WorkflowId.IndexOf('/', StringComparison.Ordinal)];
            Assert.Equal("a", EdgeEnds(all[i]).From);
            Assert.Equal(("b", $"t{thread}"), EdgeEnds(all[i + 1]));
            Assert.IsType<MetricsUpdatedEvent>(all[i + 3]);
            abCount = Math.Max(abCount, all[i] is EdgeUpdatedEvent u ? u.ObservedCount : 1);
        }

        Assert.Equal(Threads * PerThread, abCount);
    }

    private static (string From, string To) EdgeEnds(GraphEvent e) => e switch
    {
        EdgeCreatedEvent c => (c.FromToolId, c.ToToolId),
        EdgeUpdatedEvent u => (u.FromToolId, u.ToToolId),
        _ => throw new Xunit.Sdk.XunitException($"Expected an edge event, got {e.EventType}."),
    };

    private sealed class FailingStore : IToolGraphStore
    {
        private readonly InMemoryToolGraphStore _inner = new();

        public bool Fail { get; set; }

        public ValueTask<ToolGraphStoreContents> LoadAsync(CancellationToken cancellationToken = default) => _inner.LoadAsync(cancellationToken);

        public ValueTask SaveChangesAsync(ToolGraphChanges changes, CancellationToken cancellationToken = default) =>
            Fail ? throw new ToolGraphStoreException("memory", "The store 'memory' is failing on purpose.", null) : _inner.SaveChangesAsync(changes, cancellationToken);
    }
}
