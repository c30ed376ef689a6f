using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.Redis;

/// <summary>The learner's and the replica's log messages.</summary>
internal static partial class RedisClusterLog
{
    [LoggerMessage(101, LogLevel.Warning, "Redis cluster cannot {Operation}; retrying.")]
    public static partial void Unavailable(ILogger logger, string operation, Exception exception);

    [LoggerMessage(102, LogLevel.Information, "Redis cluster can {Operation} again.")]
    public static partial void Recovered(ILogger logger, string operation);

    [LoggerMessage(103, LogLevel.Warning, "The event stream '{StreamKey}' has a new epoch ({OldEpoch} → {NewEpoch}): Redis lost its data. The graph is kept; the learner makes it the new stream's base.")]
    public static partial void NewEpoch(ILogger logger, string streamKey, string oldEpoch, string newEpoch);

    [LoggerMessage(104, LogLevel.Warning, "The graph replica skipped stream entry {StreamId}: {Problem}.")]
    public static partial void SkippedEntry(ILogger logger, string streamId, string problem);

    [LoggerMessage(105, LogLevel.Warning, "The graph replica of '{StreamKey}' missed events before {StreamId} and no snapshot covers them yet; it waits for the learner's next snapshot.")]
    public static partial void Behind(ILogger logger, string streamKey, string streamId);

    [LoggerMessage(106, LogLevel.Error, "The graph snapshot in '{SnapshotKey}' cannot be read; it is ignored.")]
    public static partial void BadSnapshot(ILogger logger, string snapshotKey, Exception exception);

    [LoggerMessage(107, LogLevel.Information, "Loaded the graph snapshot at {StreamId}: {Nodes} tools, {Edges} edges.")]
    public static partial void SnapshotLoaded(ILogger logger, string streamId, int nodes, int edges);

    [LoggerMessage(108, LogLevel.Information, "This instance ({InstanceId}) is the learner now (fencing token {Token}); it learns from execution {Cursor} on.")]
    public static partial void BecameLearner(ILogger logger, string instanceId, long token, string cursor);

    [LoggerMessage(109, LogLevel.Information, "This instance ({InstanceId}) is no longer the learner: {Reason}.")]
    public static partial void StoppedLearning(ILogger logger, string instanceId, string reason);

    [LoggerMessage(110, LogLevel.Warning, "The learner refused execution '{ExecutionId}' (entry {StreamId}) and skipped it: {Reason}")]
    public static partial void Refused(ILogger logger, string executionId, string streamId, string reason);

    [LoggerMessage(111, LogLevel.Warning, "The learner skipped executions log entry {StreamId}: it is not an execution this version can read.")]
    public static partial void Unreadable(ILogger logger, string streamId);

    [LoggerMessage(112, LogLevel.Warning, "The new learner could not catch up with the event stream's head {Head} within {Timeout} (its graph is at {Position}); it gives the lease up for another instance to try.")]
    public static partial void CannotCatchUp(ILogger logger, string head, string position, TimeSpan timeout);

    [LoggerMessage(113, LogLevel.Warning, "The event stream lost its data: the learner made its graph ({Nodes} tools, {Edges} edges) the base of the new stream.")]
    public static partial void BaseWritten(ILogger logger, int nodes, int edges);

    [LoggerMessage(114, LogLevel.Debug, "The learner wrote a graph snapshot at {StreamId}.")]
    public static partial void SnapshotWritten(ILogger logger, string streamId);
}
