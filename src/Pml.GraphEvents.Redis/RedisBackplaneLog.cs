using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.Redis;

/// <summary>The backplane's log messages (category <c>Pml.GraphEvents.Redis.RedisBackplane</c>).</summary>
internal static partial class RedisBackplaneLog
{
    [LoggerMessage(1, LogLevel.Information, "Redis backplane reading stream '{StreamKey}' after id {StreamId}.")]
    public static partial void Started(ILogger logger, string streamKey, string streamId);

    [LoggerMessage(2, LogLevel.Warning, "Redis backplane cannot {Operation}; retrying. Events published meanwhile wait in the outage buffer.")]
    public static partial void Unavailable(ILogger logger, string operation, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Redis backplane can {Operation} again.")]
    public static partial void Recovered(ILogger logger, string operation);

    [LoggerMessage(4, LogLevel.Warning, "Redis backplane outage buffer is full ({Capacity} events): the oldest waiting event was dropped ({Dropped} so far).")]
    public static partial void Dropped(ILogger logger, int capacity, long dropped);

    [LoggerMessage(5, LogLevel.Warning, "Redis backplane skipped stream entry {StreamId}: {Problem}.")]
    public static partial void SkippedEntry(ILogger logger, string streamId, string problem);

    [LoggerMessage(6, LogLevel.Warning, "Redis backplane could not replay ids after {AfterId} for a resuming client; it is told it lost events.")]
    public static partial void FetchFailed(ILogger logger, long afterId, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Redis backplane: stream '{StreamKey}' keeps {StoredMaxLength} entries, stored in '{ConfigKey}' by the first instance; this instance's MaxLength {MaxLength} is not used. To change the stream's length for all: HSET {ConfigKey} maxlen <n>.")]
    public static partial void MaxLengthDiffers(ILogger logger, string streamKey, string storedMaxLength, string configKey, int maxLength);

    [LoggerMessage(8, LogLevel.Warning, "Redis backplane could not encode a '{EventType}' event; it was dropped and the next events go on ({Count} so far).")]
    public static partial void Unencodable(ILogger logger, string eventType, long count, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "Redis backplane stopped with {Count} published events not appended to the stream within StopTimeout ({StopTimeout}): they were discarded and reach no client.")]
    public static partial void DiscardedAtStop(ILogger logger, long count, TimeSpan stopTimeout);

    [LoggerMessage(10, LogLevel.Warning, "Redis backplane appended an events_lost notice for {Count} events the outage buffer dropped; every instance's clients receive it.")]
    public static partial void LossNoticeAppended(ILogger logger, long count);

    [LoggerMessage(11, LogLevel.Debug, "Redis backplane could not unsubscribe its notification channel from the application's connection while stopping.")]
    public static partial void UnsubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "Redis backplane: stream '{StreamKey}' has a new epoch ({OldEpoch} → {NewEpoch}); Redis lost its data. Every client is told it lost events (log_reset) and ids start over.")]
    public static partial void NewEpoch(ILogger logger, string streamKey, string oldEpoch, string newEpoch);

    [LoggerMessage(13, LogLevel.Warning, "Redis backplane fell behind stream '{StreamKey}': {Lost} events were trimmed (MaxLength {MaxLength}) before this instance read them. Its clients are told (events_lost). A longer stream (GraphEvents:Redis:MaxLength) absorbs larger bursts.")]
    public static partial void FellBehind(ILogger logger, string streamKey, long lost, int maxLength);
}
