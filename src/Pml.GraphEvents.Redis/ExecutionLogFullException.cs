namespace Pml.GraphEvents.Redis;

/// <summary>The executions log holds as many executions waiting for the learner as it may (<see cref="RedisBackplaneOptions.MaxPendingExecutions"/>).</summary>
internal sealed class ExecutionLogFullException(long waiting, long maxPending)
    : Exception($"{waiting:N0} executions wait for the learner; at most {maxPending:N0} may ({RedisBackplaneOptions.SectionName}:{nameof(RedisBackplaneOptions.MaxPendingExecutions)}). Is a learner running and keeping up?")
{
    public long Waiting { get; } = waiting;
}
