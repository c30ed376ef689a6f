using System.Runtime.CompilerServices;
using QuikGraph;
using QuikGraph.Algorithms.ShortestPath;

namespace Pml.GraphEvents.QuikGraph;

/// <summary>
/// The k most likely simple chains between two tools: Yen's k shortest loopless paths (QuikGraph's
/// <see cref="YenShortestPathsAlgorithm{TVertex}"/>) with each step weighted −log(probability), so
/// the shortest path is the one whose product of step probabilities is the largest.
/// </summary>
internal static class LikelyChains
{
    /// <summary>The most chains one question may ask for: Yen runs one Dijkstra per tool of each chain found.</summary>
    public const int MaxCount = 20;

    // Yen's algorithm takes its own graph type; built once per snapshot and dropped with it.
    private static readonly ConditionalWeakTable<ToolGraphSnapshot, AdjacencyGraph<string, EquatableTaggedEdge<string, double>>> YenGraphs = new();

    public static IReadOnlyList<ToolChain> Find(ToolGraphSnapshot snapshot, string fromToolId, string toToolId, int count)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(fromToolId);
        ArgumentNullException.ThrowIfNull(toToolId);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxCount);
        if (!snapshot.ContainsTool(fromToolId))
        {
            throw new ArgumentException($"The tool '{fromToolId}' is not in the graph.", nameof(fromToolId));
        }

        if (!snapshot.ContainsTool(toToolId))
        {
            throw new ArgumentException($"The tool '{toToolId}' is not in the graph.", nameof(toToolId));
        }

        if (string.Equals(fromToolId, toToolId, StringComparison.Ordinal))
        {
            throw new ArgumentException("A chain goes from one tool to another: a simple chain from a tool to itself is the tool alone.", nameof(toToolId));
        }

        var graph = SnapshotGraph.For(snapshot);

        // QuikGraph's Yen clones its input graph and throws when there is no path at all; a search
        // over the shared adapter answers "unreachable" without either.
        if (!Reaches(graph, fromToolId, toToolId))
        {
            return [];
        }

        var yen = new YenShortestPathsAlgorithm<string>(YenGraphs.GetValue(snapshot, static s => BuildYenGraph(SnapshotGraph.For(s))), fromToolId, toToolId, count);
        var chains = new List<ToolChain>(count);
        foreach (var path in yen.Execute())
        {
            var toolIds = new List<string>(path.Count + 1) { fromToolId };
            var probability = 1.0;
            foreach (var step in path)
            {
                toolIds.Add(step.Target);

                // The product of the steps' own probabilities, not exp(−Σ weights): exact, and the
                // same number a caller gets by multiplying GetStepProbability along the chain.
                graph.TryGetEdge(step.Source, step.Target, out var edge);
                probability *= edge.Probability;
            }

            chains.Add(new ToolChain(toolIds.AsReadOnly(), probability));
        }

        // Yen orders by the sum of −log weights; chains whose products tie within rounding may come
        // out of it in either order, so order by the product itself (stable: Yen's order within ties).
        return [.. chains.OrderByDescending(c => c.Probability)];
    }

    private static bool Reaches(SnapshotGraph graph, string from, string to)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { from };
        var pending = new Stack<string>();
        pending.Push(from);
        while (pending.TryPop(out var tool))
        {
            foreach (var edge in graph.OutEdgeList(tool))
            {
                if (!IsUsable(edge))
                {
                    continue;
                }

                if (string.Equals(edge.Target, to, StringComparison.Ordinal))
                {
                    return true;
                }

                if (seen.Add(edge.Target))
                {
                    pending.Push(edge.Target);
                }
            }
        }

        return false;
    }

    private static AdjacencyGraph<string, EquatableTaggedEdge<string, double>> BuildYenGraph(SnapshotGraph graph)
    {
        // No parallel edges: Yen removes and restores edges while it searches, and a graph that
        // allowed them would take back a second copy of an edge removed twice, finding a chain again
        // instead of the next one.
        var yenGraph = new AdjacencyGraph<string, EquatableTaggedEdge<string, double>>(allowParallelEdges: false, graph.VertexCount, graph.EdgeCount);
        yenGraph.AddVertexRange(graph.VertexList);
        foreach (var edge in graph.Edges)
        {
            if (IsUsable(edge))
            {
                yenGraph.AddEdge(new EquatableTaggedEdge<string, double>(edge.Source, edge.Target, -Math.Log(edge.Probability)));
            }
        }

        return yenGraph;
    }

    // A step of probability 0 (an edge whose confidence is 0) is in no likely chain, and −log 0 is infinite.
    private static bool IsUsable(ToolStepEdge edge) => edge.Probability > 0;
}
