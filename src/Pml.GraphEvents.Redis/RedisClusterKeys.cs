using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The Redis keys of one shared graph, all named after the event stream's key (so that a hash tag
/// in it, such as <c>{pml:graph-events}</c>, keeps them in one slot of a cluster, as the scripts need).
/// </summary>
internal sealed class RedisClusterKeys(string streamKey)
{
    /// <summary>The event stream: the shared event log.</summary>
    public RedisKey Stream { get; } = streamKey;

    /// <summary>The event log's epoch (see <see cref="RedisBackplane"/>).</summary>
    public RedisKey Epoch { get; } = streamKey + ":epoch";

    /// <summary>The stream id of the last event of the last unit the learner appended.</summary>
    public RedisKey Head { get; } = streamKey + ":head";

    /// <summary>The learner's latest snapshot of the graph.</summary>
    public RedisKey Snapshot { get; } = streamKey + ":snapshot";

    /// <summary>The learner's lease (see <see cref="RedisLearnerLease"/>).</summary>
    public RedisKey Lease { get; } = streamKey + ":learner";

    /// <summary>The stream's settings shared by the instances (its length).</summary>
    public RedisKey Config { get; } = streamKey + ":config";

    /// <summary>The executions log (see <see cref="RedisExecutionLog"/>).</summary>
    public RedisKey Executions { get; } = streamKey + ":executions";

    /// <summary>The executions log's id of the last execution learned.</summary>
    public RedisKey LearnedCursor { get; } = streamKey + ":executions:learned";

    /// <summary>How many executions were learned (or refused by the learner) since the log began.</summary>
    public RedisKey LearnedCount { get; } = streamKey + ":executions:learned-count";

    /// <summary>How many executions were appended since the log began: minus <see cref="LearnedCount"/>, the learner's lag.</summary>
    public RedisKey AppendedCount { get; } = streamKey + ":executions:appended-count";

    /// <summary>Published to when units are appended to the event stream (the backplane's channel).</summary>
    public RedisChannel EventsNotify { get; } = RedisChannel.Literal(streamKey + ":notify");

    /// <summary>Published to when executions are appended to the executions log.</summary>
    public RedisChannel ExecutionsNotify { get; } = RedisChannel.Literal(streamKey + ":executions:notify");
}
