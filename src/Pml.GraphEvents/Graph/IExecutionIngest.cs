namespace Pml.GraphEvents;

/// <summary>
/// Where executions go to be learned, whatever the deployment: with one instance, the engine learns
/// them at once (<c>AddToolGraphEngine()</c> registers that); with a learner on Redis
/// (<c>AddRedisLearner()</c> of Pml.GraphEvents.Redis), they are appended to the shared executions
/// log, and the one instance that holds the learner's lease learns them, in the log's order,
/// exactly once for every instance.
/// </summary>
public interface IExecutionIngest
{
    /// <summary>
    /// Takes <paramref name="executions"/> as one batch, all or nothing. When this returns, every
    /// accepted execution is durable (in the graph store and its log, or in the shared executions
    /// log) and is learned exactly once; an execution id already taken within the duplicate window
    /// (<see cref="ToolGraphEngineOptions.DuplicateWindowCount"/>), or earlier in the batch, is
    /// answered as a duplicate and not learned again, so a caller may retry a batch whose answer it lost.
    /// </summary>
    /// <exception cref="ArgumentException">An execution is malformed or over a bound; nothing was taken.</exception>
    /// <exception cref="ToolGraphStoreException">The store or the shared log cannot be written now; nothing was taken, and the batch may be sent again.</exception>
    ValueTask<ExecutionIngestResult> SubmitAsync(IReadOnlyList<WorkflowExecution> executions, CancellationToken cancellationToken = default);
}
