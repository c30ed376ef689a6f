namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// The engine as a replica of a shared log (DESIGN §7): a learner's units, folded by another engine,
/// give the same state to the last bit (tools in the same order, edges, PageRank, communities,
/// metrics), whatever the batches; a unit that does not follow the state is refused as a gap.
/// </summary>
public sealed class SharedLogFoldTests
{
    private const string Epoch = "aaaaaaaaaa";

    private static readonly string[] Tools = [.. Enumerable.Range(0, 14).Select(i => $"tool:{i}")];

    private static ToolGraphEngineCore NewReplica(bool autoRegister = true)
    {
        var engine = (ToolGraphEngineCore)ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { AutoRegisterUnknownTools = autoRegister });
        engine.UseSharedLog();
        return engine;
    }

    /// <summary>A random DAG over a few tools: chains, fan-outs and joins, repeats and self-loops included.</summary>
    private static WorkflowExecution RandomExecution(Random random, int n)
    {
        var count = random.Next(1, 6);
        var tasks = new List<WorkflowTask>(count);
        for (var t = 0; t < count; t++)
        {
            var dependsOn = t == 0 ? [] : Enumerable.Range(0, random.Next(0, Math.Min(t, 3) + 1)).Select(_ => $"t{random.Next(t)}").ToArray();
            tasks.Add(new WorkflowTask($"t{t}", Tools[random.Next(Tools.Length)], dependsOn));
        }

        return new WorkflowExecution($"e{n}", tasks, random.NextDouble() > 0.1, random.Next(1, 500));
    }

    /// <summary>A learner whose commit is a list: each unit gets consecutive offsets, as a log would give them.</summary>
    private sealed class FakeLog
    {
        public List<(IReadOnlyList<GraphEvent> Events, long Base, long Last)> Units { get; } = [];

        private long _last;

        public ValueTask<SharedLogPosition> CommitAsync(IReadOnlyList<GraphEvent> events, long expected, CancellationToken cancellationToken)
        {
            Assert.Equal(_last, expected);
            var last = _last + events.Count;
            Units.Add((events, _last, last));
            _last = last;
            return ValueTask.FromResult(new SharedLogPosition(last, $"{Epoch}-{last}"));
        }
    }

    private static void AssertSameToTheBit(ToolGraphSnapshot expected, ToolGraphSnapshot actual)
    {
        Assert.Equal(expected.AsOfEventId, actual.AsOfEventId);
        Assert.Equal(expected.Nodes.Select(n => n.Id), actual.Nodes.Select(n => n.Id));
        Assert.Equal(expected.Edges, actual.Edges);
        Assert.Equal(expected.PageRank.Select(BitConverter.DoubleToInt64Bits), actual.PageRank.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(expected.Communities, actual.Communities);
        Assert.Equal(expected.Metrics.Density, actual.Metrics.Density);
        Assert.Equal(expected.Metrics.CommunitiesCount, actual.Metrics.CommunitiesCount);
        Assert.Equal(expected.Metrics.PageRankTop10, actual.Metrics.PageRankTop10);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public async Task A_replica_folding_the_learners_units_holds_the_learners_state_to_the_bit(int seed, bool autoRegister)
    {
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(seed);
        var learner = NewReplica(autoRegister);
        var replica = NewReplica(autoRegister);

        // Both registered the same catalog at start (a part of it: the rest is auto-registered, or unknown).
        var catalog = Tools.Take(8).Select(id => new ToolNode(id, id.ToUpperInvariant(), "server")).ToArray();
        await learner.RegisterToolsAsync(catalog, ct);
        await replica.RegisterToolsAsync(catalog, ct);

        var log = new FakeLog();
        var n = 0;
        for (var batch = 0; batch < 40; batch++)
        {
            var executions = Enumerable.Range(0, random.Next(1, 8)).Select(_ => RandomExecution(random, n++)).ToArray();
            await learner.LearnAsync(executions, log.CommitAsync, ct);
        }

        foreach (var (events, unitBase, last) in log.Units)
        {
            Assert.Equal(SharedUnitResult.Applied, await replica.ApplySharedUnitAsync(events, unitBase, last, $"{Epoch}-{last}", ct));
        }

        AssertSameToTheBit(learner.Snapshot, replica.Snapshot);
        Assert.Equal(learner.SharedOffset, replica.SharedOffset);

        // The learner reads its own units back from the log: nothing changes.
        var (firstEvents, firstBase, firstLast) = log.Units[0];
        Assert.Equal(SharedUnitResult.AlreadyApplied, await learner.ApplySharedUnitAsync(firstEvents, firstBase, firstLast, $"{Epoch}-{firstLast}", ct));
    }

    [Fact]
    public async Task A_unit_that_does_not_follow_the_state_is_a_gap_and_changes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var learner = NewReplica();
        var replica = NewReplica();
        var log = new FakeLog();
        await learner.LearnAsync([WorkflowExecution.Chain("a", ["x", "y"])], log.CommitAsync, ct);
        await learner.LearnAsync([WorkflowExecution.Chain("b", ["y", "z"])], log.CommitAsync, ct);

        var (events, unitBase, last) = log.Units[1];
        var before = replica.Snapshot;
        Assert.Equal(SharedUnitResult.Gap, await replica.ApplySharedUnitAsync(events, unitBase, last, $"{Epoch}-{last}", ct));
        Assert.Same(before, replica.Snapshot);

        // A snapshot of the learner, loaded, makes the replica follow on from it.
        var state = await learner.ExportSharedAsync(ct);
        await replica.ImportSharedAsync(state, $"{Epoch}-{state.Offset}", ct);
        AssertSameToTheBit(learner.Snapshot, replica.Snapshot);
        await learner.LearnAsync([WorkflowExecution.Chain("c", ["x", "y", "z"])], log.CommitAsync, ct);
        var (e3, b3, l3) = log.Units[2];
        Assert.Equal(SharedUnitResult.Applied, await replica.ApplySharedUnitAsync(e3, b3, l3, $"{Epoch}-{l3}", ct));
        AssertSameToTheBit(learner.Snapshot, replica.Snapshot);
        Assert.Equal(2, replica.Snapshot.Edges.Single(e => e.FromToolId == "x").ObservedCount);
    }

    [Fact]
    public async Task A_replica_refuses_to_learn_by_itself_and_registers_tools_without_publishing()
    {
        var ct = TestContext.Current.CancellationToken;
        var publisher = new RecordingPublisher();
        var engine = (ToolGraphEngineCore)ToolGraphEngine.Create(publisher);
        engine.UseSharedLog();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("a", ["x", "y"])], ct));
        Assert.Contains("IExecutionIngest", refused.Message, StringComparison.Ordinal);
        await engine.RegisterToolsAsync([new ToolNode("x"), new ToolNode("y")], ct);
        await engine.SyncAsync(ct);
        Assert.Equal(2, engine.Snapshot.Nodes.Count);
        Assert.Empty(publisher.Events);
    }

    [Fact]
    public async Task A_snapshot_that_does_not_hold_together_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        var learner = NewReplica();
        var log = new FakeLog();
        await learner.LearnAsync([WorkflowExecution.Chain("a", ["x", "y"])], log.CommitAsync, ct);
        var state = await learner.ExportSharedAsync(ct);

        var replica = NewReplica();
        await Assert.ThrowsAsync<InvalidDataException>(async () => await replica.ImportSharedAsync(state with { Edges = [new EdgeData(0, 5, 0.5, 1)] }, null, ct));
        await Assert.ThrowsAsync<InvalidDataException>(async () => await replica.ImportSharedAsync(state with { Nodes = [state.Nodes[0], state.Nodes[0]] }, null, ct));
        Assert.Equal(0, replica.Snapshot.Version);
    }
}
