using System.Collections.Immutable;
using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;

namespace Pml.GraphEvents;

/// <summary>
/// One immutable state of the tool graph: its tools, edges, metrics, and each tool's PageRank and
/// community. The engine swaps in a new snapshot after every change, so a reader never sees half
/// of an execution; keep a snapshot as long as you like, it never changes.
/// </summary>
public sealed partial class ToolGraphSnapshot
{
    private readonly ImmutableArray<ToolNode> _nodes;
    private readonly IReadOnlyDictionary<string, int> _nodeIndex;
    private readonly EdgeData[] _edges;
    private readonly double[] _pageRank;
    private readonly int[] _community;

    // Built on first use: most snapshots are replaced before anyone reads their edges.
    private ReadOnlyCollection<ToolGraphEdge>? _publicEdges;
    private Dictionary<(int From, int To), int>? _edgeIndex;

    internal ToolGraphSnapshot(
        long version,
        ImmutableArray<ToolNode> nodes,
        IReadOnlyDictionary<string, int> nodeIndex,
        EdgeData[] edges,
        GraphMetricsResult metrics,
        string? asOfEventId = null)
    {
        Version = version;
        AsOfEventId = asOfEventId;
        _nodes = nodes;
        _nodeIndex = nodeIndex;
        _edges = edges;
        _pageRank = metrics.PageRank;
        _community = metrics.Community;
        Metrics = metrics.Metrics;
        Nodes = _nodes;
        PageRank = Array.AsReadOnly(_pageRank);
        Communities = Array.AsReadOnly(_community);
    }

    /// <summary>A graph with no tools.</summary>
    public static ToolGraphSnapshot Empty { get; } = new(
        0,
        [],
        new Dictionary<string, int>(StringComparer.Ordinal),
        [],
        new GraphMetricsResult { Metrics = ToolGraphMetrics.Empty, PageRank = [], Community = [] });

    /// <summary>Increases by one with every change the engine makes; 0 for the empty graph it starts with.</summary>
    public long Version { get; }

    /// <summary>
    /// The id of the last event this state reflects: every graph event up to it (in the broadcaster's
    /// log) is folded in, none after it. Subscribe with it as the last event id and every later change
    /// arrives exactly once: no gap and no double count between a fetch of the graph and its stream.
    /// <see langword="null"/> before the engine's first change, or when the engine's publisher is
    /// not this library's broadcaster, or behind a backplane (whose shared stream numbers events later).
    /// </summary>
    public string? AsOfEventId { get; }

    /// <summary>The tools, in the order they became known.</summary>
    public IReadOnlyList<ToolNode> Nodes { get; }

    /// <summary>The edges, in the order they were learned (or loaded).</summary>
    public IReadOnlyList<ToolGraphEdge> Edges => _publicEdges ?? CreatePublicEdges();

    /// <summary>Density, PageRank top 10 and community count of this state.</summary>
    public ToolGraphMetrics Metrics { get; }

    /// <summary>The PageRank of each tool, in the order of <see cref="Nodes"/>; they sum to 1.</summary>
    public IReadOnlyList<double> PageRank { get; }

    /// <summary>The Louvain community of each tool, in the order of <see cref="Nodes"/>, numbered from 0 by first appearance.</summary>
    public IReadOnlyList<int> Communities { get; }

    internal ImmutableArray<ToolNode> NodeArray => _nodes;

    internal IReadOnlyDictionary<string, int> NodeIndex => _nodeIndex;

    internal EdgeData[] EdgeArray => _edges;

    /// <summary>The scores behind <see cref="PageRank"/>, without a copy: where the next snapshot's PageRank starts.</summary>
    internal ReadOnlySpan<double> PageRankSpan => _pageRank;

    internal GraphMetricsResult MetricsResult => new() { Metrics = Metrics, PageRank = _pageRank, Community = _community };

    /// <summary>Whether the graph has a tool with this id.</summary>
    public bool ContainsTool(string toolId) => _nodeIndex.ContainsKey(toolId);

    /// <summary>Finds a tool by id.</summary>
    public bool TryGetTool(string toolId, [NotNullWhen(true)] out ToolNode? tool)
    {
        if (_nodeIndex.TryGetValue(toolId, out var index))
        {
            tool = _nodes[index];
            return true;
        }

        tool = null;
        return false;
    }

    /// <summary>The community of a tool, or <see langword="null"/> when the tool is not in the graph.</summary>
    public int? GetCommunity(string toolId) => _nodeIndex.TryGetValue(toolId, out var index) ? _community[index] : null;

    /// <summary>The PageRank of a tool, or <see langword="null"/> when the tool is not in the graph.</summary>
    public double? GetPageRank(string toolId) => _nodeIndex.TryGetValue(toolId, out var index) ? _pageRank[index] : null;

    /// <summary>Finds the edge <paramref name="fromToolId"/> → <paramref name="toToolId"/>.</summary>
    public bool TryGetEdge(string fromToolId, string toToolId, out ToolGraphEdge edge)
    {
        if (_nodeIndex.TryGetValue(fromToolId, out var from) && _nodeIndex.TryGetValue(toToolId, out var to)
            && (_edgeIndex ?? CreateEdgeIndex()).TryGetValue((from, to), out var e))
        {
            edge = Edges[e];
            return true;
        }

        edge = default;
        return false;
    }

    // Racing readers may each build one; they are equal and the last write wins, so no lock is needed.
    private ReadOnlyCollection<ToolGraphEdge> CreatePublicEdges()
    {
        var edges = new ToolGraphEdge[_edges.Length];
        for (var e = 0; e < edges.Length; e++)
        {
            var data = _edges[e];
            edges[e] = new ToolGraphEdge(_nodes[data.From].Id, _nodes[data.To].Id, data.Confidence, data.ObservedCount);
        }

        var readOnly = Array.AsReadOnly(edges);
        Volatile.Write(ref _publicEdges, readOnly);
        return readOnly;
    }

    private Dictionary<(int From, int To), int> CreateEdgeIndex()
    {
        var index = new Dictionary<(int From, int To), int>(_edges.Length);
        for (var e = 0; e < _edges.Length; e++)
        {
            index[(_edges[e].From, _edges[e].To)] = e;
        }

        Volatile.Write(ref _edgeIndex, index);
        return index;
    }
}
