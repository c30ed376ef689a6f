namespace Pml.GraphEvents;

/// <summary>
/// An execution the engine learned, remembered for a bounded window so that the same
/// <see cref="WorkflowExecution.Id"/> sent again (a client retrying a POST whose answer it lost) is
/// answered as a duplicate instead of being learned twice.
/// </summary>
/// <param name="ExecutionId">The execution's id.</param>
/// <param name="LearnedAt">When it was learned.</param>
public sealed record LearnedExecution(string ExecutionId, DateTimeOffset LearnedAt);
