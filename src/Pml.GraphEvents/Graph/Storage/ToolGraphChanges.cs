namespace Pml.GraphEvents;

/// <summary>What one engine operation changed, to be stored in one transaction.</summary>
/// <param name="WorkflowId">The execution that caused the changes, or <see langword="null"/> for a tool registration.</param>
/// <param name="Tools">Tools to insert or replace.</param>
/// <param name="Edges">Edges to insert or replace, each with its new confidence and count.</param>
public sealed record ToolGraphChanges(string? WorkflowId, IReadOnlyList<ToolNode> Tools, IReadOnlyList<ToolGraphEdge> Edges)
{
    /// <summary>Tools to insert or replace.</summary>
    public IReadOnlyList<ToolNode> Tools { get; init; } = Tools ?? throw new ArgumentNullException(nameof(Tools));

    /// <summary>Edges to insert or replace, each with its new confidence and count.</summary>
    public IReadOnlyList<ToolGraphEdge> Edges { get; init; } = Edges ?? throw new ArgumentNullException(nameof(Edges));
}
