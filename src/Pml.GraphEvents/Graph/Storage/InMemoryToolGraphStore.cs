namespace Pml.GraphEvents;

/// <summary>
/// A store that keeps the graph in this process only: the default, for tests and for hosts that
/// rebuild the graph at start-up. Thread-safe. It keeps the learned executions of the duplicate
/// window as the SQLite store does (see <see cref="SaveChangesAsync"/>), so that a sync keeps the
/// window too.
/// </summary>
public sealed class InMemoryToolGraphStore : IToolGraphStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ToolNode> _tools = new(StringComparer.Ordinal);
    private readonly Dictionary<(string From, string To), ToolGraphEdge> _edges = [];

    // Insertion order, so that a load returns tools and edges in a stable order.
    private readonly List<string> _toolOrder = [];
    private readonly List<(string From, string To)> _edgeOrder = [];

    // The duplicate window, oldest first (in the order learned), and its ids for the "already
    // remembered" check. Trimmed from the oldest end only, so each save costs what it removes.
    private readonly Queue<LearnedExecution> _learned = new();
    private readonly HashSet<string> _learnedIds = new(StringComparer.Ordinal);

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
            return ValueTask.FromResult(new ToolGraphStoreContents(tools, edges) { LearnedExecutions = _learned.ToArray() });
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Learned executions are remembered in the order given (one already remembered keeps its first
    /// time), then the window is trimmed from its oldest end: executions learned more than
    /// <see cref="ToolGraphChanges.DuplicateWindowAge"/> before the newest of the changes', and
    /// beyond the <see cref="ToolGraphChanges.DuplicateWindowCount"/> most recent, are forgotten.
    /// <see cref="LoadAsync"/> returns them oldest first.
    /// </remarks>
    public ValueTask SaveChangesAsync(ToolGraphChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            Apply(changes.Tools, changes.Edges);
            if (changes.LearnedExecutions.Count > 0)
            {
                Remember(changes);
            }
        }

        return ValueTask.CompletedTask;
    }

    private void Remember(ToolGraphChanges changes)
    {
        var newest = DateTimeOffset.MinValue;
        foreach (var execution in changes.LearnedExecutions)
        {
            newest = execution.LearnedAt > newest ? execution.LearnedAt : newest;
            if (_learnedIds.Add(execution.ExecutionId))
            {
                _learned.Enqueue(execution);
            }
        }

        // The window's age is counted back from the newest learned now (not from the clock), as the
        // SQLite store does; the guard keeps the subtraction above DateTimeOffset.MinValue.
        var cutoff = changes.DuplicateWindowAge > TimeSpan.Zero && newest - DateTimeOffset.MinValue > changes.DuplicateWindowAge
            ? newest - changes.DuplicateWindowAge
            : DateTimeOffset.MinValue;
        var keep = Math.Max(changes.DuplicateWindowCount, 0);
        while (_learned.Count > 0 && (_learned.Count > keep || _learned.Peek().LearnedAt < cutoff))
        {
            _learnedIds.Remove(_learned.Dequeue().ExecutionId);
        }
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
