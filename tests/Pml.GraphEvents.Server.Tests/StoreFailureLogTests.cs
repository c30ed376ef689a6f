using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>The ingest's store failures in the log: each at Debug, and at Error one line per interval that counts them all.</summary>
public sealed class StoreFailureLogTests
{
    [Fact]
    public void An_outage_logs_one_error_line_per_minute_with_the_count_and_each_failure_at_debug()
    {
        var time = new FakeTimeProvider();
        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var log = new StoreFailureLog(factory, time);
        var failure = new ToolGraphStoreException("memory", "The disk is full.", null);

        for (var i = 0; i < 3; i++)
        {
            log.Report(failure);
        }

        Assert.Equal([("1 ingest(s)", LogLevel.Error)], Errors(logs));
        Assert.Equal(3, logs.Entries.Count(e => e.Level == LogLevel.Debug));

        // Within the minute: still one line. After it: the next failure's line counts the three held and itself.
        time.Advance(StoreFailureLog.Interval - TimeSpan.FromSeconds(1));
        log.Report(failure);
        Assert.Single(Errors(logs));
        time.Advance(TimeSpan.FromSeconds(1));
        log.Report(failure);
        Assert.Equal([("1 ingest(s)", LogLevel.Error), ("4 ingest(s)", LogLevel.Error)], Errors(logs));
        Assert.Equal(5, logs.Entries.Count(e => e.Level == LogLevel.Debug));
    }

    private static List<(string, LogLevel)> Errors(ListLoggerProvider logs) =>
        [.. logs.Entries.Where(e => e.Level == LogLevel.Error).Select(e => (e.Message[..e.Message.IndexOf(" failed", StringComparison.Ordinal)], e.Level))];
}
