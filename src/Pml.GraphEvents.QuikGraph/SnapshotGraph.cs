using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using QuikGraph;

namespace Pml.GraphEvents.QuikGraph;

/// <summary>
/// A <see cref="ToolGraphSnapshot"/> as a read-only QuikGraph graph. Built once per snapshot (the
/// snapshot never changes, so neither does this) and shared by every query on it: each edge is one
/// <see cref="ToolStepEdge"/> instance, and the edges out of and into a tool are arrays handed out
/// read-only, never copied per call.
/// </summary>
internal sealed class SnapshotGraph : IBidirectionalGraph<string, ToolStepEdge>
{
    // Keyed by the snapshot and dropped with it: a graph lives exactly as long as someone holds its snapshot.
    private static readonly ConditionalWeakTable<ToolGraphSnapshot, SnapshotGraph> Cache = new();

    private readonly Dictionary<string, int> _index;
    private readonly ReadOnlyCollection<string> _vertices;
    private readonly ReadOnlyCollection<ToolStepEdge> _edges;
    private readonly ReadOnlyCollection<ToolStepEdge>[] _out;
    private readonly ReadOnlyCollection<ToolStepEdge>[] _in;
    private readonly Dictionary<(string Source, string Target), ToolStepEdge> _byEnds;

    private SnapshotGraph(ToolGraphSnapshot snapshot)
    {
        var nodes = snapshot.Nodes;
        _index = new Dictionary<string, int>(nodes.Count, StringComparer.Ordinal);
        var vertices = new string[nodes.Count];
        for (var n = 0; n < vertices.Length; n++)
        {
            vertices[n] = nodes[n].Id;
            _index[vertices[n]] = n;
        }

        _vertices = Array.AsReadOnly(vertices);
        _byEnds = new Dictionary<(string, string), ToolStepEdge>(snapshot.Edges.Count);
        _out = new ReadOnlyCollection<ToolStepEdge>[vertices.Length];
        _in = new ReadOnlyCollection<ToolStepEdge>[vertices.Length];
        for (var n = 0; n < vertices.Length; n++)
        {
            var learned = snapshot.GetOutEdges(vertices[n]);
            var edges = new ToolStepEdge[learned.Count];
            for (var e = 0; e < edges.Length; e++)
            {
                var edge = learned[e];
                edges[e] = new ToolStepEdge(edge.FromToolId, edge.ToToolId, edge.ConfidenceScore, edge.ObservedCount, snapshot.GetStepProbability(edge.FromToolId, edge.ToToolId));
                _byEnds[(edge.FromToolId, edge.ToToolId)] = edges[e];
            }

            _out[n] = Array.AsReadOnly(edges);
        }

        for (var n = 0; n < vertices.Length; n++)
        {
            _in[n] = Array.AsReadOnly(snapshot.GetInEdges(vertices[n]).Select(e => _byEnds[(e.FromToolId, e.ToToolId)]).ToArray());
        }

        _edges = Array.AsReadOnly(snapshot.Edges.Select(e => _byEnds[(e.FromToolId, e.ToToolId)]).ToArray());
    }

    /// <summary>The graph of <paramref name="snapshot"/>, built on the first call and the same instance after.</summary>
    public static SnapshotGraph For(ToolGraphSnapshot snapshot) => Cache.GetValue(snapshot, static s => new SnapshotGraph(s));

    /// <summary>The tools, in the order of <see cref="ToolGraphSnapshot.Nodes"/>.</summary>
    public IReadOnlyList<string> VertexList => _vertices;

    public bool IsDirected => true;

    // The engine keeps one edge per ordered pair of tools.
    public bool AllowParallelEdges => false;

    public bool IsVerticesEmpty => _vertices.Count == 0;

    public int VertexCount => _vertices.Count;

    public IEnumerable<string> Vertices => _vertices;

    public bool IsEdgesEmpty => _edges.Count == 0;

    public int EdgeCount => _edges.Count;

    public IEnumerable<ToolStepEdge> Edges => _edges;

    public bool ContainsVertex(string vertex)
    {
        ArgumentNullException.ThrowIfNull(vertex);
        return _index.ContainsKey(vertex);
    }

    public bool ContainsEdge(ToolStepEdge edge)
    {
        ArgumentNullException.ThrowIfNull(edge);
        return _byEnds.TryGetValue((edge.Source, edge.Target), out var ours) && ours.Equals(edge);
    }

    public bool ContainsEdge(string source, string target) => TryGetEdge(source, target, out _);

    // QuikGraph declares this out parameter non-null; it is null exactly when the method returns false.
    public bool TryGetEdge(string source, string target, out ToolStepEdge edge)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var found = _byEnds.TryGetValue((source, target), out var ours);
        edge = ours!;
        return found;
    }

    public bool TryGetEdges(string source, string target, [MaybeNullWhen(false)] out IEnumerable<ToolStepEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);

        // As QuikGraph's own graphs: false only when the source is not in the graph.
        if (!_index.ContainsKey(source))
        {
            edges = null;
            return false;
        }

        edges = _byEnds.TryGetValue((source, target), out var edge) ? [edge] : [];
        return true;
    }

    public bool IsOutEdgesEmpty(string vertex) => _out[IndexOf(vertex)].Count == 0;

    public int OutDegree(string vertex) => _out[IndexOf(vertex)].Count;

    public IEnumerable<ToolStepEdge> OutEdges(string vertex) => _out[IndexOf(vertex)];

    /// <summary>The edges out of <paramref name="vertex"/>, in the order they were learned, without a copy.</summary>
    public IReadOnlyList<ToolStepEdge> OutEdgeList(string vertex) => _out[IndexOf(vertex)];

    public bool TryGetOutEdges(string vertex, [MaybeNullWhen(false)] out IEnumerable<ToolStepEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(vertex);
        edges = _index.TryGetValue(vertex, out var n) ? _out[n] : null;
        return edges is not null;
    }

    public ToolStepEdge OutEdge(string vertex, int index) => _out[IndexOf(vertex)][index];

    public bool IsInEdgesEmpty(string vertex) => _in[IndexOf(vertex)].Count == 0;

    public int InDegree(string vertex) => _in[IndexOf(vertex)].Count;

    public IEnumerable<ToolStepEdge> InEdges(string vertex) => _in[IndexOf(vertex)];

    public bool TryGetInEdges(string vertex, [MaybeNullWhen(false)] out IEnumerable<ToolStepEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(vertex);
        edges = _index.TryGetValue(vertex, out var n) ? _in[n] : null;
        return edges is not null;
    }

    public ToolStepEdge InEdge(string vertex, int index) => _in[IndexOf(vertex)][index];

    public int Degree(string vertex)
    {
        var n = IndexOf(vertex);
        return _out[n].Count + _in[n].Count;
    }

    // As QuikGraph's own graphs: asking for the edges of a vertex that is not in the graph is an error.
    private int IndexOf(string vertex)
    {
        ArgumentNullException.ThrowIfNull(vertex);
        return _index.TryGetValue(vertex, out var n) ? n : throw new VertexNotFoundException($"The tool '{vertex}' is not in the graph.");
    }
}
