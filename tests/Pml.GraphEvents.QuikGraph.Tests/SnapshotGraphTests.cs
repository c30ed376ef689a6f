using Pml.GraphEvents.QuikGraph.Tests.TestSupport;
using QuikGraph;
using QuikGraph.Algorithms;

namespace Pml.GraphEvents.QuikGraph.Tests;

public sealed class SnapshotGraphTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Vertices_edges_and_degrees_match_the_snapshot(int seed)
    {
        var snapshot = await Graphs.RandomAsync(seed, size: 8, density: 0.35);

        var graph = snapshot.AsBidirectionalGraph();

        Assert.True(graph.IsDirected);
        Assert.False(graph.AllowParallelEdges);
        Assert.Equal(snapshot.Nodes.Select(n => n.Id), graph.Vertices);
        Assert.Equal(snapshot.Nodes.Count, graph.VertexCount);
        Assert.Equal(snapshot.Edges.Count, graph.EdgeCount);
        Assert.Equal(snapshot.Edges.Select(e => (e.FromToolId, e.ToToolId)), graph.Edges.Select(e => (e.Source, e.Target)));
        foreach (var tool in snapshot.Nodes.Select(n => n.Id))
        {
            Assert.True(graph.ContainsVertex(tool));
            Assert.Equal(snapshot.GetOutEdges(tool).Select(Expected), graph.OutEdges(tool).Select(Actual));
            Assert.Equal(snapshot.GetInEdges(tool).Select(Expected), graph.InEdges(tool).Select(Actual));
            Assert.Equal(snapshot.GetOutEdges(tool).Count, graph.OutDegree(tool));
            Assert.Equal(snapshot.GetInEdges(tool).Count, graph.InDegree(tool));
            Assert.Equal(graph.OutDegree(tool) + graph.InDegree(tool), graph.Degree(tool));
            Assert.Equal(graph.OutDegree(tool) == 0, graph.IsOutEdgesEmpty(tool));
            Assert.Equal(graph.InDegree(tool) == 0, graph.IsInEdgesEmpty(tool));
            foreach (var edge in graph.OutEdges(tool))
            {
                Assert.Equal(snapshot.GetStepProbability(edge.Source, edge.Target), edge.Probability);
                Assert.True(graph.TryGetEdge(edge.Source, edge.Target, out var found));
                Assert.Same(edge, found);
                Assert.True(graph.ContainsEdge(edge));
                Assert.Contains(edge, graph.InEdges(edge.Target));
            }

            if (graph.OutDegree(tool) > 0)
            {
                Assert.Equal(1.0, graph.OutEdges(tool).Sum(e => e.Probability), 12);
                Assert.Same(graph.OutEdges(tool).First(), graph.OutEdge(tool, 0));
            }
        }

        static (string, string, double, int) Expected(ToolGraphEdge e) => (e.FromToolId, e.ToToolId, e.ConfidenceScore, e.ObservedCount);
        static (string, string, double, int) Actual(ToolStepEdge e) => (e.Source, e.Target, e.ConfidenceScore, e.ObservedCount);
    }

    [Fact]
    public async Task The_graph_is_built_once_per_snapshot_and_its_edge_lists_are_not_copied()
    {
        var snapshot = await Graphs.LearnAsync(["a", "b", "c"], [("a", "b", 1), ("a", "c", 2)]);

        var graph = snapshot.AsBidirectionalGraph();

        Assert.Same(graph, snapshot.AsBidirectionalGraph());
        Assert.Same(graph.OutEdges("a"), graph.OutEdges("a"));
        Assert.Same(graph.InEdges("c"), graph.InEdges("c"));
        Assert.Same(graph.Edges, graph.Edges);
        Assert.IsNotType<ToolStepEdge[]>(graph.OutEdges("a"), exactMatch: true);
    }

    [Fact]
    public async Task A_tool_not_in_the_graph_is_reported_as_QuikGraph_graphs_do()
    {
        var snapshot = await Graphs.LearnAsync(["a", "b"], [("a", "b", 1)]);
        var graph = snapshot.AsBidirectionalGraph();

        Assert.False(graph.ContainsVertex("ghost"));
        Assert.Throws<VertexNotFoundException>(() => graph.OutEdges("ghost"));
        Assert.Throws<VertexNotFoundException>(() => graph.InDegree("ghost"));
        Assert.False(graph.TryGetOutEdges("ghost", out _));
        Assert.False(graph.TryGetInEdges("ghost", out _));
        Assert.False(graph.TryGetEdges("ghost", "b", out _));
        Assert.True(graph.TryGetEdges("b", "a", out var none));
        Assert.Empty(none);
        Assert.False(graph.ContainsEdge("b", "a"));
        Assert.False(graph.ContainsEdge(new ToolStepEdge("a", "b", 0.9, 1, 1)));
        Assert.True(ToolGraphSnapshot.Empty.AsBidirectionalGraph().IsVerticesEmpty);
        Assert.True(ToolGraphSnapshot.Empty.AsBidirectionalGraph().IsEdgesEmpty);
    }

    [Fact]
    public async Task QuikGraph_algorithms_run_on_the_adapter()
    {
        var snapshot = await Graphs.LearnAsync(["d", "c", "b", "a"], [("a", "b", 1), ("b", "c", 1), ("a", "c", 2), ("c", "d", 1)]);
        var graph = snapshot.AsBidirectionalGraph();

        Assert.Equal(["a", "b", "c", "d"], graph.TopologicalSort());

        var tryPath = graph.ShortestPathsDijkstra(e => -Math.Log(e.Probability), "a");
        Assert.True(tryPath("d", out var path));
        Assert.Equal(["a", "c", "d"], path!.Select(e => e.Target).Prepend("a"));
    }
}
