using Microsoft.Extensions.Time.Testing;

namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// The duplicate window is bounded by count and by age (on the engine's clock), and it travels with
/// the store: a resync reads it back.
/// </summary>
public sealed class DuplicateWindowTests
{
    private static readonly ToolNode[] Tools = [new("a"), new("b"), new("c")];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_id_older_than_the_window_age_is_learned_again()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero));
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { DuplicateWindowAge = TimeSpan.FromHours(1) }, timeProvider: time);
        await engine.RegisterToolsAsync(Tools, Token);

        Assert.Equal(["w"], (await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w", ["a", "b"])], Token)).Learned);
        time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(["w"], (await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w", ["a", "b"])], Token)).Duplicates);

        time.Advance(TimeSpan.FromMinutes(2));
        var again = await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w", ["a", "b"])], Token);
        Assert.Equal(["w"], again.Learned);
        Assert.True(again.Snapshot.TryGetEdge("a", "b", out var edge));
        Assert.Equal(2, edge.ObservedCount);
    }

    [Fact]
    public async Task Past_the_window_count_the_oldest_id_is_forgotten_first()
    {
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { DuplicateWindowCount = 2 });
        await engine.RegisterToolsAsync(Tools, Token);
        foreach (var id in (string[])["w1", "w2", "w3"])
        {
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain(id, ["a", "b"]), Token);
        }

        var result = await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w1", ["a", "b"]), WorkflowExecution.Chain("w3", ["a", "b"])], Token);
        Assert.Equal(["w1"], result.Learned);
        Assert.Equal(["w3"], result.Duplicates);
    }

    [Fact]
    public async Task A_window_of_zero_learns_every_repeat()
    {
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { DuplicateWindowCount = 0 });
        await engine.RegisterToolsAsync(Tools, Token);
        var result = await engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w", ["a", "b"]), WorkflowExecution.Chain("w", ["a", "b"])], Token);
        Assert.Equal(["w", "w"], result.Learned);
        Assert.Empty(result.Duplicates);
        Assert.True(result.Snapshot.TryGetEdge("a", "b", out var edge));
        Assert.Equal(2, edge.ObservedCount);
    }

    [Fact]
    public async Task A_sync_reads_the_window_back_from_the_store()
    {
        var store = new InMemoryToolGraphStore(Tools);
        var first = ToolGraphEngine.Create(new RecordingPublisher(), store);
        await first.SyncAsync(Token);
        await first.UpdateFromExecutionAsync(WorkflowExecution.Chain("w", ["a", "b"]), Token);

        // Another engine on the same store, as after a restart.
        var second = ToolGraphEngine.Create(new RecordingPublisher(), store);
        await second.SyncAsync(Token);
        var result = await second.UpdateFromExecutionsAsync([WorkflowExecution.Chain("w", ["a", "b"])], Token);
        Assert.Equal(["w"], result.Duplicates);
        Assert.Empty(result.Learned);
    }
}
