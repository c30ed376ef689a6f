namespace Pml.GraphEvents;

/// <summary>
/// A store that keeps the graph in this process only: the default, for tests and for hosts that
/// rebuild the graph at start-up. Thread-safe.
/// </summary>
public sealed class InMemoryToolGraphStore : IToolGraphStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ToolNode> _tools = new(StringComparer.Ordinal);
    private readonly Dictionary<(string From, string To), ToolGraphEdge> _edges = [];

    // Insertion order, so that a load returns tools and edges in a stable order.
    private readonly List<string> _toolOrder = [];
    private readonly List<(string From, string To)> _edgeOrder = [];

    /// <summary>Creates a store holding <paramref name="tools"/> and <paramref name="edges"/>.</summary>
    /// <param name="tools">Tools to start with.</param>
    /// <param name="edges">Edges to start with (they are kept even when a tool is missing or the confidence is low, as a database would).</param>
    public InMemoryToolGraphStore(IEnumerable<ToolNode>? tools = null, IEnumerable<ToolGraphEdge>? edges = null) =>
        Apply(tools ?? [], edges ?? []);

    /// <inheritdoc/>
    public ValueTask<ToolGraphStoreContents> LoadAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var tools = _toolOrder.Select(id => _tools[id]).ToArray();
            var edges = _edgeOrder.Select(key => _edges[key]).ToArray();
            return ValueTask.FromResult(new ToolGraphStoreContents(tools, edges));
        }
    }

    /// <inheritdoc/>
    public ValueTask SaveChangesAsync(ToolGraphChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            Apply(changes.Tools, changes.Edges);
        }

        return ValueTask.CompletedTask;
    }

    private void Apply(IEnumerable<ToolNode> tools, IEnumerable<ToolGraphEdge> edges)
    {
        foreach (var tool in tools)
        {
            if (_tools.TryAdd(tool.Id, tool))
            {
                _toolOrder.Add(tool.Id);
            }
            else
            {
                _tools[tool.Id] = tool;
            }
        }

        foreach (var edge in edges)
        {
            if (_edges.TryAdd((edge.FromToolId, edge.ToToolId), edge))
            {
                _edgeOrder.Add((edge.FromToolId, edge.ToToolId));
            }
            else
            {
                _edges[(edge.FromToolId, edge.ToToolId)] = edge;
            }
        }
    }
}
