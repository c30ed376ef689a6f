namespace Pml.GraphEvents;

/// <summary>What <see cref="IToolGraphEngine.UpdateFromExecutionsAsync"/> did with a batch of executions.</summary>
/// <param name="Learned">The ids of the executions learned now, in the batch's order.</param>
/// <param name="Duplicates">
/// The ids of the executions not learned because they were already (within the duplicate window,
/// <see cref="ToolGraphEngineOptions.DuplicateWindowCount"/>, or earlier in the same batch), in the batch's order.
/// </param>
/// <param name="Snapshot">The graph after the batch.</param>
public sealed record ExecutionBatchResult(IReadOnlyList<string> Learned, IReadOnlyList<string> Duplicates, ToolGraphSnapshot Snapshot);
