using System.Collections.ObjectModel;

namespace Pml.GraphEvents;

/// <summary>
/// What the graph is for (DESIGN §9): a tool's edges out and in, and the probability of a step,
/// <c>confidence(A→B) / Σ confidence(A→·)</c>. The adjacency behind them is built once per snapshot,
/// on the first query (most snapshots are replaced before anyone asks), and then answered without copies.
/// </summary>
public sealed partial class ToolGraphSnapshot
{
    private Adjacency? _adjacency;

    /// <summary>The edges from <paramref name="toolId"/>, in the order they were learned; empty when the tool has none or is not in the graph.</summary>
    public IReadOnlyList<ToolGraphEdge> GetOutEdges(string toolId)
    {
        ArgumentNullException.ThrowIfNull(toolId);
        return _nodeIndex.TryGetValue(toolId, out var index) ? Adjacent().Out(this, index) : [];
    }

    /// <summary>The edges into <paramref name="toolId"/>, in the order they were learned; empty when the tool has none or is not in the graph.</summary>
    public IReadOnlyList<ToolGraphEdge> GetInEdges(string toolId)
    {
        ArgumentNullException.ThrowIfNull(toolId);
        return _nodeIndex.TryGetValue(toolId, out var index) ? Adjacent().In(this, index) : [];
    }

    /// <summary>
    /// The probability of the step <paramref name="fromToolId"/> → <paramref name="toToolId"/>: the
    /// edge's confidence over the sum of the confidences of every edge out of <paramref name="fromToolId"/>.
    /// 0 when there is no such edge.
    /// </summary>
    public double GetStepProbability(string fromToolId, string toToolId)
    {
        ArgumentNullException.ThrowIfNull(fromToolId);
        ArgumentNullException.ThrowIfNull(toToolId);
        return TryGetEdge(fromToolId, toToolId, out var edge) && _nodeIndex.TryGetValue(fromToolId, out var from)
            ? edge.ConfidenceScore / Adjacent().OutConfidence[from]
            : 0;
    }

    /// <summary>
    /// The tools that usually follow <paramref name="toolId"/>, most probable first (ties by tool id),
    /// at most <paramref name="count"/>; empty when it has no edge out or is not in the graph.
    /// </summary>
    public IReadOnlyList<ToolTransition> GetNextTools(string toolId, int count)
    {
        ArgumentNullException.ThrowIfNull(toolId);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!_nodeIndex.TryGetValue(toolId, out var index))
        {
            return [];
        }

        var total = Adjacent().OutConfidence[index];
        return Top(GetOutEdges(toolId).Select(e => new ToolTransition(e.ToToolId, e.ConfidenceScore / total, e.ConfidenceScore, e.ObservedCount)), count);
    }

    /// <summary>
    /// The tools that usually precede <paramref name="toolId"/>, with the probability of the step from
    /// each of them to it, most probable first (ties by tool id), at most <paramref name="count"/>.
    /// </summary>
    public IReadOnlyList<ToolTransition> GetPreviousTools(string toolId, int count)
    {
        ArgumentNullException.ThrowIfNull(toolId);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!_nodeIndex.ContainsKey(toolId))
        {
            return [];
        }

        var adjacency = Adjacent();
        return Top(GetInEdges(toolId).Select(e => new ToolTransition(e.FromToolId, e.ConfidenceScore / adjacency.OutConfidence[_nodeIndex[e.FromToolId]], e.ConfidenceScore, e.ObservedCount)), count);
    }

    private static ToolTransition[] Top(IEnumerable<ToolTransition> transitions, int count) =>
        [.. transitions.OrderByDescending(t => t.Probability).ThenBy(t => t.ToolId, StringComparer.Ordinal).Take(count)];

    // Racing readers may each build one; they are equal and the last write wins, so no lock is needed.
    private Adjacency Adjacent()
    {
        if (Volatile.Read(ref _adjacency) is { } built)
        {
            return built;
        }

        var adjacency = new Adjacency(_nodes.Length, _edges);
        Volatile.Write(ref _adjacency, adjacency);
        return adjacency;
    }

    /// <summary>Each tool's edge indices out and in, and its total outgoing confidence.</summary>
    private sealed class Adjacency
    {
        private readonly int[][] _out;
        private readonly int[][] _in;
        private readonly ReadOnlyCollection<ToolGraphEdge>?[] _outEdges;
        private readonly ReadOnlyCollection<ToolGraphEdge>?[] _inEdges;

        public Adjacency(int nodes, EdgeData[] edges)
        {
            var outCount = new int[nodes];
            var inCount = new int[nodes];
            OutConfidence = new double[nodes];
            foreach (var edge in edges)
            {
                outCount[edge.From]++;
                inCount[edge.To]++;
                OutConfidence[edge.From] += edge.Confidence;
            }

            _out = new int[nodes][];
            _in = new int[nodes][];
            for (var n = 0; n < nodes; n++)
            {
                _out[n] = new int[outCount[n]];
                _in[n] = new int[inCount[n]];
                outCount[n] = 0;
                inCount[n] = 0;
            }

            for (var e = 0; e < edges.Length; e++)
            {
                _out[edges[e].From][outCount[edges[e].From]++] = e;
                _in[edges[e].To][inCount[edges[e].To]++] = e;
            }

            _outEdges = new ReadOnlyCollection<ToolGraphEdge>?[nodes];
            _inEdges = new ReadOnlyCollection<ToolGraphEdge>?[nodes];
        }

        /// <summary>Σ confidence of each tool's outgoing edges.</summary>
        public double[] OutConfidence { get; }

        public ReadOnlyCollection<ToolGraphEdge> Out(ToolGraphSnapshot snapshot, int node) => Edges(snapshot, _out[node], _outEdges, node);

        public ReadOnlyCollection<ToolGraphEdge> In(ToolGraphSnapshot snapshot, int node) => Edges(snapshot, _in[node], _inEdges, node);

        private static ReadOnlyCollection<ToolGraphEdge> Edges(ToolGraphSnapshot snapshot, int[] indices, ReadOnlyCollection<ToolGraphEdge>?[] cache, int node)
        {
            if (Volatile.Read(ref cache[node]) is { } cached)
            {
                return cached;
            }

            var all = snapshot.Edges;
            var edges = new ToolGraphEdge[indices.Length];
            for (var i = 0; i < edges.Length; i++)
            {
                edges[i] = all[indices[i]];
            }

            var built = Array.AsReadOnly(edges);
            Volatile.Write(ref cache[node], built);
            return built;
        }
    }
}
