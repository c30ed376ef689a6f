using QuikGraph;

namespace Pml.GraphEvents.QuikGraph;

/// <summary>
/// Questions for a <see cref="ToolGraphSnapshot"/> that QuikGraph answers (DESIGN §9): the snapshot as
/// a QuikGraph graph, the most likely chains between two tools, and the tools that form cycles.
/// Everything built for a snapshot is built once, on the first question, and kept as long as the
/// snapshot is; every method is safe to call from any number of threads.
/// </summary>
public static class ToolGraphSnapshotQuikGraphExtensions
{
    /// <summary>The most chains <see cref="GetLikelyChains"/> returns for one question.</summary>
    public const int MaxChainCount = LikelyChains.MaxCount;

    /// <summary>
    /// The snapshot as a read-only QuikGraph graph, for any QuikGraph algorithm: its vertices are the
    /// tool ids, in the order of <see cref="ToolGraphSnapshot.Nodes"/>; its edges are one
    /// <see cref="ToolStepEdge"/> per learned edge, in the order of <see cref="ToolGraphSnapshot.Edges"/>.
    /// Built on the first call for a snapshot; later calls return the same instance, and its edge lists
    /// are not copied per query. As QuikGraph's own graphs, asking for the edges of a tool that is not
    /// in the graph throws <see cref="VertexNotFoundException"/>.
    /// </summary>
    /// <param name="snapshot">The state of the graph to read.</param>
    public static IBidirectionalGraph<string, ToolStepEdge> AsBidirectionalGraph(this ToolGraphSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return SnapshotGraph.For(snapshot);
    }

    /// <summary>
    /// The <paramref name="count"/> most likely simple chains of tools from <paramref name="fromToolId"/>
    /// to <paramref name="toToolId"/>, most probable first: a chain's probability is the product of its
    /// steps' probabilities (<see cref="ToolGraphSnapshot.GetStepProbability"/>), and no tool appears twice
    /// in a chain. Found with Yen's k shortest paths on −log probability. Fewer chains when there are
    /// fewer; empty when <paramref name="toToolId"/> cannot be reached from <paramref name="fromToolId"/>.
    /// </summary>
    /// <param name="snapshot">The state of the graph to read.</param>
    /// <param name="fromToolId">The tool the chains start from.</param>
    /// <param name="toToolId">The tool the chains end at; another tool than <paramref name="fromToolId"/>.</param>
    /// <param name="count">How many chains at most, from 1 to <see cref="MaxChainCount"/>.</param>
    /// <exception cref="ArgumentException">
    /// A tool is not in the graph, or both are the same tool (a simple chain from a tool to itself is the
    /// tool alone; see <see cref="GetToolCycles"/> for the tools that lead back to each other); the
    /// exception's parameter name says which argument.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is outside 1 to <see cref="MaxChainCount"/>.</exception>
    public static IReadOnlyList<ToolChain> GetLikelyChains(this ToolGraphSnapshot snapshot, string fromToolId, string toToolId, int count) =>
        LikelyChains.Find(snapshot, fromToolId, toToolId, count);

    /// <summary>
    /// The groups of tools that lead back to each other: each strongly connected component of the graph
    /// with more than one tool (a tool never has an edge to itself), its tool ids in ordinal order; the
    /// largest group first, then by first tool id. Empty when the graph has no cycle. Computed once per snapshot.
    /// </summary>
    /// <param name="snapshot">The state of the graph to read.</param>
    public static IReadOnlyList<IReadOnlyList<string>> GetToolCycles(this ToolGraphSnapshot snapshot) => ToolCycles.Find(snapshot);
}
