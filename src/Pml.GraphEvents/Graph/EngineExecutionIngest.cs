namespace Pml.GraphEvents;

/// <summary>The ingest of one instance: the engine learns a batch before it answers.</summary>
internal sealed class EngineExecutionIngest(IToolGraphEngine engine) : IExecutionIngest
{
    public async ValueTask<ExecutionIngestResult> SubmitAsync(IReadOnlyList<WorkflowExecution> executions, CancellationToken cancellationToken = default)
    {
        var result = await engine.UpdateFromExecutionsAsync(executions, cancellationToken).ConfigureAwait(false);
        return new ExecutionIngestResult(result.Learned, result.Duplicates, result.Snapshot);
    }
}
