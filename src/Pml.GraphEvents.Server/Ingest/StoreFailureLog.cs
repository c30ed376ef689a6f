using Pml.GraphEvents.AspNetCore;

namespace Pml.GraphEvents.Server;

/// <summary>
/// How the ingest logs a graph store that cannot be written (a full disk, a locked file, Redis away):
/// each failure at Debug with its exception, and at Error the first one, then at most one line a
/// minute with how many there were since the last and the latest exception. An outage answers every
/// POST 503, possibly hundreds a second; one stack trace per POST would bury the log and cost the
/// server while it is already in trouble, and the count still says how bad it was.
/// </summary>
internal sealed partial class StoreFailureLog(ILoggerFactory loggers, TimeProvider timeProvider)
{
    /// <summary>The interval of the Error lines.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly ILogger _logger = loggers.CreateLogger(IngestEndpoint.LoggerCategory);
    private readonly LogThrottle _throttle = new(timeProvider, Interval);

    /// <summary>Logs one failure, answered 503.</summary>
    public void Report(Exception exception)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogFailed(_logger, exception);
        }

        // Counted whether or not Error is on, so that the count in the next line is exact.
        if (_throttle.TryPass(out var failures))
        {
            LogFailedSummary(_logger, failures, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "An ingest failed in the graph store; answered 503 and nothing of the body was learned")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Failures} ingest(s) failed in the graph store since the last such message and were answered 503 (nothing of them learned; clients retry after Retry-After); the latest failure follows")]
    private static partial void LogFailedSummary(ILogger logger, long failures, Exception exception);
}
