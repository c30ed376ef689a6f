namespace Pml.GraphEvents;

/// <summary>What <see cref="IExecutionIngest.SubmitAsync"/> did with a batch.</summary>
/// <param name="Accepted">The ids taken now, in the batch's order: durable, and learned exactly once.</param>
/// <param name="Duplicates">The ids not taken because they were already (within the duplicate window, or earlier in the batch), in the batch's order.</param>
/// <param name="Snapshot">
/// The graph with the accepted executions learned, when they were learned before the answer (one
/// instance); <see langword="null"/> when a learner elsewhere will learn them (Redis).
/// </param>
public sealed record ExecutionIngestResult(IReadOnlyList<string> Accepted, IReadOnlyList<string> Duplicates, ToolGraphSnapshot? Snapshot);
