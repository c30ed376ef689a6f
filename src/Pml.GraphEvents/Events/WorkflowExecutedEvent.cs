namespace Pml.GraphEvents;

/// <summary>A workflow execution was learned from.</summary>
/// <param name="WorkflowId">The execution's id.</param>
/// <param name="ToolIds">The tools of the execution, in the order its tasks were given.</param>
/// <param name="Success">Whether the execution succeeded.</param>
/// <param name="ExecutionTimeMs">The execution's own duration as reported by whoever ran it, in milliseconds (not the time the engine took to learn from it).</param>
/// <param name="Timestamp">When the engine finished learning from it.</param>
public sealed record WorkflowExecutedEvent(
    string WorkflowId,
    IReadOnlyList<string> ToolIds,
    bool Success,
    double ExecutionTimeMs,
    DateTimeOffset Timestamp)
    : GraphEvent(GraphEventTypes.WorkflowExecuted, Timestamp)
{
    internal override GraphEventKind Kind => GraphEventKind.WorkflowExecuted;
}
