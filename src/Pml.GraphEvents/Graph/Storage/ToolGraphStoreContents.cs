namespace Pml.GraphEvents;

/// <summary>Everything a <see cref="IToolGraphStore"/> holds.</summary>
/// <param name="Tools">Every tool.</param>
/// <param name="Edges">Every edge, whatever its confidence and whether or not its tools exist; the engine filters them on sync.</param>
public sealed record ToolGraphStoreContents(IReadOnlyList<ToolNode> Tools, IReadOnlyList<ToolGraphEdge> Edges)
{
    /// <summary>Every tool.</summary>
    public IReadOnlyList<ToolNode> Tools { get; init; } = Tools ?? throw new ArgumentNullException(nameof(Tools));

    /// <summary>Every edge, whatever its confidence and whether or not its tools exist; the engine filters them on sync.</summary>
    public IReadOnlyList<ToolGraphEdge> Edges { get; init; } = Edges ?? throw new ArgumentNullException(nameof(Edges));

    /// <summary>
    /// The executions the store remembers as learned (see <see cref="ToolGraphChanges.LearnedExecutions"/>),
    /// oldest first; empty for a store that does not keep them.
    /// </summary>
    public IReadOnlyList<LearnedExecution> LearnedExecutions { get; init; } = [];
}
