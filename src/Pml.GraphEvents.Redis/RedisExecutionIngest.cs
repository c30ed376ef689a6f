using System.Diagnostics;
using System.Text.Json;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The ingest of an instance of a shared graph: checks a batch as the engine would (so that the
/// learner never meets an execution it refuses), then appends it to the shared executions log and
/// answers once Redis holds it. The learner, on whichever instance holds the lease, learns it.
/// </summary>
internal sealed class RedisExecutionIngest(RedisGraphCluster cluster) : IExecutionIngest
{
    public async ValueTask<ExecutionIngestResult> SubmitAsync(IReadOnlyList<WorkflowExecution> executions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(executions);
        cluster.Engine.CheckExecutions(executions, nameof(executions));
        var entries = new (string Id, string Json)[executions.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = (executions[i].Id, Encode(executions[i]));
        }

        IReadOnlyList<string> duplicates;
        if (!cluster.RedisConnected)
        {
            // Answer now (the caller retries after Retry-After) rather than after the client
            // library's timeout: nothing can be appended until the connection is back.
            throw new ToolGraphStoreException("The shared executions log (Redis) cannot take executions now: Redis is not connected.");
        }

        // A child of the POST's span; its context goes with every entry, for the learner's spans.
        using var activity = RedisClusterTracing.Source.StartActivity(RedisClusterTracing.ExecutionsAppend, ActivityKind.Producer);
        activity?.SetTag(RedisClusterTracing.EntriesTag, entries.Length);
        try
        {
            var log = await cluster.ExecutionLogAsync(cancellationToken).ConfigureAwait(false);
            duplicates = await log.AppendAsync(entries, RedisClusterTracing.ContextOf(activity)).WaitAsync(cancellationToken).ConfigureAwait(false);
            activity?.SetTag(GraphEventsTracing.DuplicatesTag, duplicates.Count);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ExecutionLogFullException)
        {
            // Nothing was appended (one script: all or nothing); the caller may send the batch again.
            RedisClusterTracing.Fail(activity, ex);
            throw new ToolGraphStoreException($"The shared executions log (Redis) cannot take executions now: {ex.Message}", ex);
        }

        // The script reports the skipped ids in the body's order; the others were appended.
        List<string> accepted = new(entries.Length - duplicates.Count);
        var d = 0;
        foreach (var (id, _) in entries)
        {
            if (d < duplicates.Count && string.Equals(duplicates[d], id, StringComparison.Ordinal))
            {
                d++;
            }
            else
            {
                accepted.Add(id);
            }
        }

        return new ExecutionIngestResult(accepted, duplicates, null);
    }

    private static string Encode(WorkflowExecution execution)
    {
        var tasks = new ExecutionTaskEntry[execution.Tasks.Count];
        for (var i = 0; i < tasks.Length; i++)
        {
            var task = execution.Tasks[i];
            tasks[i] = new ExecutionTaskEntry(task.Id, task.Tool, [.. task.DependsOn]);
        }

        return JsonSerializer.Serialize(new ExecutionEntry(execution.Id, tasks, execution.Success, execution.ExecutionTimeMs), RedisClusterJson.Default.ExecutionEntry);
    }
}
