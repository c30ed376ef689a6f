namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// The snapshot's questions (DESIGN §9): edges out and in, a step's probability (confidence over the
/// source's total outgoing confidence), the tools that follow and precede one.
/// </summary>
public sealed class SnapshotQueryTests
{
    private static async Task<ToolGraphSnapshot> GraphAsync(params string[][] chains)
    {
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        var n = 0;
        foreach (var chain in chains)
        {
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain($"e{n++}", chain), TestContext.Current.CancellationToken);
        }

        return engine.Snapshot;
    }

    [Fact]
    public async Task A_steps_probability_is_its_confidence_over_the_sources_outgoing_confidence()
    {
        // a→b twice (0.55), a→c once (0.5), a→d once (0.5), e→c once.
        var graph = await GraphAsync(["a", "b"], ["a", "b"], ["a", "c"], ["a", "d"], ["e", "c"]);
        const double Total = 0.55 + 0.5 + 0.5;
        Assert.Equal(0.55 / Total, graph.GetStepProbability("a", "b"), 15);
        Assert.Equal(0.5 / Total, graph.GetStepProbability("a", "c"), 15);
        Assert.Equal(1.0, graph.GetStepProbability("e", "c"));
        Assert.Equal(0, graph.GetStepProbability("b", "a"));
        Assert.Equal(0, graph.GetStepProbability("a", "nowhere"));
        Assert.Equal(1.0, graph.GetOutEdges("a").Sum(e => graph.GetStepProbability("a", e.ToToolId)), 15);

        Assert.Equal(["b", "c", "d"], graph.GetOutEdges("a").Select(e => e.ToToolId));
        Assert.Equal(["a", "e"], graph.GetInEdges("c").Select(e => e.FromToolId));
        Assert.Empty(graph.GetOutEdges("b"));
        Assert.Empty(graph.GetInEdges("nowhere"));
        Assert.Same(graph.GetOutEdges("a"), graph.GetOutEdges("a"));
    }

    [Fact]
    public async Task Next_and_previous_tools_come_most_probable_first_ties_by_id_and_at_most_the_count()
    {
        var graph = await GraphAsync(["a", "b"], ["a", "b"], ["a", "d"], ["a", "c"], ["e", "c"]);
        var next = graph.GetNextTools("a", 5);
        Assert.Equal(["b", "c", "d"], next.Select(t => t.ToolId));
        Assert.Equal(2, next[0].ObservedCount);
        Assert.Equal(0.55, next[0].ConfidenceScore, 15);
        Assert.Equal(["b", "c"], graph.GetNextTools("a", 2).Select(t => t.ToolId));
        Assert.Empty(graph.GetNextTools("a", 0));
        Assert.Empty(graph.GetNextTools("nowhere", 5));

        var previous = graph.GetPreviousTools("c", 5);
        Assert.Equal(["e", "a"], previous.Select(t => t.ToolId));
        Assert.Equal(1.0, previous[0].Probability);
        Assert.Equal(graph.GetStepProbability("a", "c"), previous[1].Probability);
        Assert.Throws<ArgumentOutOfRangeException>(() => graph.GetNextTools("a", -1));
    }
}
