namespace Pml.GraphEvents;

/// <summary>What one engine operation changed, to be stored in one transaction.</summary>
/// <param name="WorkflowId">The execution that caused the changes (the first one, for a batch), or <see langword="null"/> for a tool registration.</param>
/// <param name="Tools">Tools to insert or replace.</param>
/// <param name="Edges">Edges to insert or replace, each with its new confidence and count.</param>
public sealed record ToolGraphChanges(string? WorkflowId, IReadOnlyList<ToolNode> Tools, IReadOnlyList<ToolGraphEdge> Edges)
{
    /// <summary>Tools to insert or replace.</summary>
    public IReadOnlyList<ToolNode> Tools { get; init; } = Tools ?? throw new ArgumentNullException(nameof(Tools));

    /// <summary>Edges to insert or replace, each with its new confidence and count.</summary>
    public IReadOnlyList<ToolGraphEdge> Edges { get; init; } = Edges ?? throw new ArgumentNullException(nameof(Edges));

    /// <summary>
    /// The executions these changes learned, to remember in the same transaction: a store that keeps
    /// them returns them from <see cref="IToolGraphStore.LoadAsync"/>, and the engine then answers
    /// them as duplicates after a restart too. Empty for a tool registration.
    /// </summary>
    public IReadOnlyList<LearnedExecution> LearnedExecutions { get; init; } = [];

    /// <summary>
    /// The duplicate window (<see cref="ToolGraphEngineOptions.DuplicateWindowCount"/>): a store keeps
    /// at most this many of the most recently learned executions and may forget older ones. 0 when
    /// the changes learned none.
    /// </summary>
    public int DuplicateWindowCount { get; init; }

    /// <summary>
    /// The duplicate window's age (<see cref="ToolGraphEngineOptions.DuplicateWindowAge"/>): a store
    /// may forget executions learned longer than this before the newest of
    /// <see cref="LearnedExecutions"/>.
    /// </summary>
    public TimeSpan DuplicateWindowAge { get; init; }
}
