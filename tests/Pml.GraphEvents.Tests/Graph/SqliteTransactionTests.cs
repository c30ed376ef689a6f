using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// The engine, the broadcaster and the SQLite store as its event log, wired as a host wires them
/// (<c>AddSqliteToolGraphStore</c>): a batch's graph change, its learned ids and its events are one
/// transaction, across restarts and failures, on a real database file.
/// </summary>
public sealed class SqliteTransactionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pml-transaction-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_change_and_its_events_are_in_the_log_together_and_survive_a_restart()
    {
        var path = Path.Combine(_directory, "graph.db");
        EventLogState first;
        {
            await using var provider = Build(path);
            var engine = provider.GetRequiredService<IToolGraphEngine>();
            await engine.SyncAsync(Token);
            await engine.RegisterToolsAsync([new ToolNode("a"), new ToolNode("b"), new ToolNode("c")], Token);
            var snapshot = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b", "c"]), Token);
            var log = provider.GetRequiredService<IGraphEventLog>();
            Assert.Same(provider.GetRequiredService<IToolGraphStore>(), log);
            first = log.State;

            // Every event is in the log, the last one is what the snapshot is as of.
            var records = log.Read(0, first.LastOffset, 100);
            Assert.Equal(first.LastOffset, records.Count);
            Assert.Equal(GraphEventId.Format(first.Epoch, first.LastOffset), snapshot.AsOfEventId);
            Assert.Equal(["graph_synced", "metrics_updated", "edge_created", "edge_created", "workflow_executed", "metrics_updated"], records.Select(r => r.EventType));
            var contents = await provider.GetRequiredService<IToolGraphStore>().LoadAsync(Token);
            Assert.Equal(["w1"], contents.LearnedExecutions.Select(e => e.ExecutionId));
            Assert.Equal(2, contents.Edges.Count);
        }

        {
            await using var provider = Build(path);
            var engine = provider.GetRequiredService<IToolGraphEngine>();
            var synced = await engine.SyncAsync(Token);
            Assert.Equal(2, synced.Edges.Count);

            // The duplicate window came back with the graph.
            var result = await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w1", ["a", "b", "c"]), WorkflowExecution.Chain("w2", ["a", "c"])], Token);
            Assert.Equal(["w1"], result.Duplicates);
            Assert.Equal(["w2"], result.Learned);
            var log = provider.GetRequiredService<IGraphEventLog>();
            Assert.Equal(first.Epoch, log.State.Epoch);
            Assert.True(log.State.LastOffset > first.LastOffset);
            Assert.Equal(log.State.LastOffset, GraphEventIdOffset(result.Snapshot.AsOfEventId));
        }
    }

    [Fact]
    public async Task A_batch_whose_transaction_fails_leaves_no_change_no_event_and_no_learned_id()
    {
        var path = Path.Combine(_directory, "graph.db");
        await using var provider = Build(path);
        var engine = provider.GetRequiredService<IToolGraphEngine>();
        var broadcaster = provider.GetRequiredService<IGraphEventBroadcaster>();
        var store = provider.GetRequiredService<SqliteToolGraphStore>();
        await engine.SyncAsync(Token);
        await engine.RegisterToolsAsync([new ToolNode("a"), new ToolNode("b"), new ToolNode("c")], Token);
        var before = engine.Snapshot;
        var log = provider.GetRequiredService<IGraphEventLog>();
        var lastBefore = log.State.LastOffset;
        using var subscription = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = before.AsOfEventId });
        Assert.True(subscription.TryRead(out var connected));
        Assert.IsType<ConnectedEvent>(connected.Event);

        // The crash stand-in: the transaction fails after every write, before its commit.
        store.BeforeCommit = () => throw new Microsoft.Data.Sqlite.SqliteException("simulated failure before commit", 10);
        var batch = new[] { WorkflowExecution.Chain("x1", ["a", "b"]), WorkflowExecution.Chain("x2", ["b", "c"]) };
        await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await engine.UpdateFromExecutionsAsync(batch, Token));

        Assert.Same(before, engine.Snapshot);
        Assert.Equal(lastBefore, log.State.LastOffset);
        var stored = await provider.GetRequiredService<IToolGraphStore>().LoadAsync(Token);
        Assert.Empty(stored.Edges);
        Assert.Empty(stored.LearnedExecutions);
        Assert.False(subscription.TryRead(out var leaked), $"Nothing of the failed batch is delivered ({leaked?.EventType}).");

        // The same batch again, once the store works: learned whole, not as duplicates.
        store.BeforeCommit = null;
        var result = await engine.UpdateFromExecutionsAsync(batch, Token);
        Assert.Equal(["x1", "x2"], result.Learned);
        Assert.Empty(result.Duplicates);
        Assert.Equal(2, result.Snapshot.Edges.Count);
        Assert.Equal(lastBefore + 5, log.State.LastOffset); // two edge_created, two workflow_executed, one metrics_updated
    }

    private static ServiceProvider Build(string path)
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddToolGraphEngine().AddSqliteToolGraphStore(path);
        return services.BuildServiceProvider();
    }

    private static long GraphEventIdOffset(string? id) =>
        GraphEventId.TryParse(id, out _, out var offset) ? offset : throw new ArgumentException($"'{id}' is not an event id.", nameof(id));
}
