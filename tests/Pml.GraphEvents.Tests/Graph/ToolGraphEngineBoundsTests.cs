using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// Work an outsider can multiply: a repeated dependency counts once, an execution may touch a
/// bounded number of edges, and every check that can refuse an execution runs before anything is
/// learned, stored or published.
/// </summary>
public sealed class ToolGraphEngineBoundsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_dependency_listed_260000_times_is_one_observation_and_one_edge_event()
    {
        var store = new InMemoryToolGraphStore();
        var (engine, events) = await CreateAsync(["a", "b"], store: store);
        var repeated = Enumerable.Repeat("t0", 260_000).ToArray();
        var execution = new WorkflowExecution("amplify", [new WorkflowTask("t0", "a", []), new WorkflowTask("t1", "b", repeated)], true, 1);

        await engine.UpdateFromExecutionAsync(execution, Ct);
        Assert.True(engine.Snapshot.TryGetEdge("a", "b", out var edge));
        Assert.Equal((0.5, 1), (edge.ConfidenceScore, edge.ObservedCount));
        Assert.Equal([typeof(EdgeCreatedEvent), typeof(WorkflowExecutedEvent), typeof(MetricsUpdatedEvent)], events.Events.Select(e => e.GetType()));

        // Again: one update, count 2, in the graph and in the store.
        events.Clear();
        await engine.UpdateFromExecutionAsync(execution with { Id = "amplify-2" }, Ct);
        var updated = Assert.Single(events.Events.OfType<EdgeUpdatedEvent>());
        Assert.Equal((2, 0.55), (updated.ObservedCount, Math.Round(updated.NewConfidence, 12)));
        var stored = Assert.Single((await store.LoadAsync(Ct)).Edges);
        Assert.Equal(2, stored.ObservedCount);
    }

    [Fact]
    public async Task Repeats_are_removed_in_order_and_distinct_dependencies_are_each_observed()
    {
        var (engine, events) = await CreateAsync(["a", "b", "c", "d"]);
        string[] dependsOn = ["t0", "t1", "t0", "t2", "t1", "t0"];
        await engine.UpdateFromExecutionAsync(
            new WorkflowExecution("w", [new("t0", "a", []), new("t1", "b", []), new("t2", "c", []), new("t3", "d", dependsOn)], true, 1),
            Ct);

        Assert.Equal(
            [("a", "d"), ("b", "d"), ("c", "d")],
            events.Events.OfType<EdgeCreatedEvent>().Select(e => (e.FromToolId, e.ToToolId)));

        // The same pair of tools met through two different tasks is still two observations.
        events.Clear();
        await engine.UpdateFromExecutionAsync(
            new WorkflowExecution("w2", [new("t0", "a", []), new("t1", "a", []), new("t2", "d", ["t0", "t1", "t1"])], true, 1),
            Ct);
        Assert.Equal([2, 3], events.Events.OfType<EdgeUpdatedEvent>().Select(e => e.ObservedCount));
    }

    [Fact]
    public async Task An_execution_over_MaxEdgesPerExecution_is_refused_and_changes_nothing()
    {
        var store = new InMemoryToolGraphStore();
        await using var broadcaster = GraphEventBroadcaster.Create();
        var engine = ToolGraphEngine.Create(broadcaster, store, new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        using var subscription = broadcaster.Subscribe();
        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("first", ["a", "b"]), Ct);
        var before = engine.Snapshot;
        var published = (await subscription.ReadAsync(4)).Count;
        var storedBefore = await store.LoadAsync(Ct);

        // 1,001 tools in a chain: 1,000 dependencies fit the default bound exactly; one more does not.
        var tools = Enumerable.Range(0, 1_002).Select(i => $"tool-{i}").ToArray();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("too-many", tools), Ct).AsTask());
        Assert.Equal("execution", error.ParamName);
        Assert.Contains("1,001 task dependencies (depends_on", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:Engine:MaxEdgesPerExecution", error.Message, StringComparison.Ordinal);
        Assert.Contains("1,000", error.Message, StringComparison.Ordinal);

        Assert.Same(before, engine.Snapshot);
        var storedAfter = await store.LoadAsync(Ct);
        Assert.Equal((storedBefore.Tools.Count, storedBefore.Edges.Count), (storedAfter.Tools.Count, storedAfter.Edges.Count));
        Assert.Equal(published - 1, broadcaster.GetStatistics().EventsPublished);
        Assert.False(subscription.TryRead(out _));

        // At the bound: learned, one event per edge.
        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("at-the-bound", tools[..1_001]), Ct);
        Assert.Equal(1_000 + 1, engine.Snapshot.Edges.Count);
    }

    [Fact]
    public async Task Repeats_do_not_count_toward_the_bound_but_self_loops_and_unknown_tools_do()
    {
        var (engine, _) = await CreateAsync(["a", "b"], new ToolGraphEngineOptions { MaxEdgesPerExecution = 2 });
        var repeats = Enumerable.Repeat("t0", 50).Concat(Enumerable.Repeat("t1", 50)).ToArray();
        await engine.UpdateFromExecutionAsync(new WorkflowExecution("ok", [new("t0", "a", []), new("t1", "b", []), new("t2", "b", repeats)], true, 1), Ct);

        // a→b once, b→b (a self-loop, skipped) and unknown→b (skipped): three dependencies, over 2.
        await Assert.ThrowsAsync<ArgumentException>(() => engine.UpdateFromExecutionAsync(
            new WorkflowExecution("over", [new("t0", "a", []), new("t1", "b", []), new("t2", "zzz", []), new("t3", "b", ["t0", "t1", "t2"])], true, 1),
            Ct).AsTask());
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(-1)]
    [InlineData(-double.Epsilon)]
    public async Task An_execution_time_that_is_not_a_finite_non_negative_number_is_refused_before_learning(double executionTimeMs)
    {
        var store = new InMemoryToolGraphStore();
        var (engine, events) = await CreateAsync(["a", "b"], store: store);
        var before = engine.Snapshot;

        var error = await Assert.ThrowsAsync<ArgumentException>(() => engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w", ["a", "b"], executionTimeMs: executionTimeMs), Ct).AsTask());
        Assert.Contains("execution_time_ms", error.Message, StringComparison.Ordinal);
        Assert.Same(before, engine.Snapshot);
        Assert.Empty(events.Events);
        Assert.Empty((await store.LoadAsync(Ct)).Edges);
    }

    [Fact]
    public async Task Minus_zero_is_published_as_zero()
    {
        var (engine, events) = await CreateAsync(["a", "b"]);
        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w", ["a", "b"], executionTimeMs: -0.0), Ct);
        var executed = Assert.Single(events.Events.OfType<WorkflowExecutedEvent>());
        Assert.False(double.IsNegative(executed.ExecutionTimeMs));
        Assert.Contains("\"execution_time_ms\":0,", GraphEventJson.Serialize(executed), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_issues_oversized_execution_is_refused_before_learning_naming_MaxEventBytes()
    {
        // 1,000 tool ids of 256 '<': 256 KB of text, a 1.5 MB workflow_executed frame once escaped.
        var store = new InMemoryToolGraphStore();
        await using var broadcaster = GraphEventBroadcaster.Create();
        var engine = ToolGraphEngine.Create(broadcaster, store, new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        using var subscription = broadcaster.Subscribe();
        var tools = Enumerable.Range(0, 1_000).Select(i => $"{i:D3}" + new string('<', 253)).ToArray();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("huge", tools), Ct).AsTask());
        Assert.Equal("execution", error.ParamName);
        Assert.Contains("workflow_executed", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:MaxEventBytes (1,048,576 bytes)", error.Message, StringComparison.Ordinal);

        Assert.Equal(0, engine.Snapshot.Version);
        var stored = await store.LoadAsync(Ct);
        Assert.Equal((0, 0), (stored.Tools.Count, stored.Edges.Count));
        Assert.Single(await subscription.ReadAsync(1));
        Assert.False(subscription.TryRead(out _));
        Assert.Equal(0, broadcaster.GetStatistics().EventsPublished);
    }

    [Fact]
    public async Task The_engine_takes_the_limit_of_the_broadcaster_it_publishes_to()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxEventBytes = 4_096 });
        var engine = ToolGraphEngine.Create(broadcaster, options: new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        var tools = Enumerable.Range(0, 40).Select(i => $"tool-{i}-" + new string('x', 100)).ToArray();

        // The engine refuses it (naming the execution), not the broadcaster after the change is stored.
        var error = await Assert.ThrowsAsync<ArgumentException>(() => engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w", tools), Ct).AsTask());
        Assert.Contains("Execution 'w'", error.Message, StringComparison.Ordinal);
        Assert.Contains("(4,096 bytes)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, engine.Snapshot.Version);
    }

    [Fact]
    public async Task With_dependency_injection_the_engine_takes_MaxEventBytes_from_the_options()
    {
        await using var services = new ServiceCollection()
            .AddGraphEvents(o => o.MaxEventBytes = 4_096)
            .AddToolGraphEngine(o => o.AutoRegisterUnknownTools = true)
            .Services
            .BuildServiceProvider();
        var engine = services.GetRequiredService<IToolGraphEngine>();
        var tools = Enumerable.Range(0, 40).Select(i => $"tool-{i}-" + new string('x', 100)).ToArray();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w", tools), Ct).AsTask());
        Assert.Contains("(4,096 bytes)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, engine.Snapshot.Version);
    }

    [Fact]
    public async Task A_tool_id_over_a_tenth_of_the_limit_is_refused_in_executions_and_registrations()
    {
        var store = new InMemoryToolGraphStore();
        var (engine, events) = await CreateAsync(["a"], new ToolGraphEngineOptions { AutoRegisterUnknownTools = true }, store);
        var max = ToolGraphEngineCore.MaxToolIdJsonBytes(ToolGraphEngineCore.DefaultMaxEventBytes);

        // Fits: exactly at the bound as JSON (quotes included); the escaped form is what counts.
        var fits = new string('<', (int)(max - 2) / 6) + new string('x', (int)(max - 2) % 6);
        Assert.Equal(max, EncodedSize.ExactString(fits));
        await engine.RegisterToolsAsync([new ToolNode(fits)], Ct);
        Assert.True(engine.Snapshot.ContainsTool(fits));

        // Ten such ids still make a metrics_updated frame within the limit.
        var ten = new MetricsUpdatedEvent(10, 10, 0.5, [.. Enumerable.Range(0, 10).Select(i => new ToolScore(fits, 0.1234567890123456))], 10, SampleEvents.Timestamp);
        Assert.True(EncodedSize.Frame(ten.EventType, SseFrameEncoder.EncodeData(ten).Length) <= ToolGraphEngineCore.DefaultMaxEventBytes);

        var tooLong = fits + "x";
        var version = engine.Snapshot.Version;
        events.Clear();
        var registration = await Assert.ThrowsAsync<ArgumentException>(() => engine.RegisterToolsAsync([new ToolNode("ok"), new ToolNode(tooLong)], Ct).AsTask());
        Assert.Equal("tools", registration.ParamName);
        Assert.Contains("GraphEvents:MaxEventBytes", registration.Message, StringComparison.Ordinal);
        var execution = await Assert.ThrowsAsync<ArgumentException>(() => engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w", ["a", tooLong]), Ct).AsTask());
        Assert.Contains("Task '1' of execution 'w'", execution.Message, StringComparison.Ordinal);
        Assert.Equal(version, engine.Snapshot.Version);
        Assert.False(engine.Snapshot.ContainsTool("ok"));
        Assert.Empty(events.Events);
        Assert.DoesNotContain((await store.LoadAsync(Ct)).Tools, t => t.Id == "ok");
    }

    private static async Task<(IToolGraphEngine Engine, RecordingPublisher Events)> CreateAsync(string[] tools, ToolGraphEngineOptions? options = null, IToolGraphStore? store = null)
    {
        var events = new RecordingPublisher();
        var engine = ToolGraphEngine.Create(events, store, options);
        await engine.RegisterToolsAsync(tools.Select(id => new ToolNode(id)), Ct);
        events.Clear();
        return (engine, events);
    }
}
