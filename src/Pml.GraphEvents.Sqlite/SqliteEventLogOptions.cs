namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// Retention of the event log that <see cref="SqliteToolGraphStore"/> keeps in its database file:
/// how many broadcast events, and how many bytes of them, stay replayable across restarts. Bound
/// from the <c>GraphEvents:EventLog</c> configuration section by <c>AddSqliteToolGraphStore</c> and
/// validated when the host starts.
/// </summary>
/// <remarks>
/// When an append takes the log over either bound, the oldest events leave it, in the same
/// transaction, until it is within both. A client that resumes with a <c>Last-Event-ID</c> older
/// than what is left gets <c>events_lost</c> (reason <c>replay_window_exceeded</c>, with the count of
/// events it missed), then the events the log still holds. Offsets are never reused: the next event
/// after a trim, or after a restart, continues the numbering.
/// </remarks>
public sealed class SqliteEventLogOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "GraphEvents:EventLog";

    /// <summary>
    /// The most events the log holds: an append beyond it removes the oldest. 1 to 100,000,000;
    /// default 100,000.
    /// </summary>
    public int MaxEvents { get; set; } = 100_000;

    /// <summary>
    /// The most bytes of event data (the <c>data:</c> JSON of each event) the log holds: an append
    /// beyond it removes the oldest events. The file is larger by SQLite's own overhead, and does not
    /// shrink when events leave (their pages are reused). 1 MiB to 1 TiB; default 67,108,864 (64 MiB).
    /// </summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Whether every commit is synced to disk before it returns (SQLite <c>synchronous = FULL</c>),
    /// so that a <c>POST /executions</c> answered 202, and the events of what it learned, survive a
    /// power loss or an operating-system crash too. Default <see langword="false"/>
    /// (<c>synchronous = NORMAL</c>): a commit survives the process being killed at any point, but the
    /// last commits before a power loss may be lost (the file stays consistent). Applies to the whole
    /// database file (graph, log and duplicate window); costs one fsync of the WAL per commit (one per
    /// pump drain and per graph save).
    /// </summary>
    public bool SyncEveryCommit { get; set; }

    /// <summary>Every problem with these options, each naming the option; empty when they are valid.</summary>
    internal List<string> Validate()
    {
        List<string> failures = [];
        if (MaxEvents is < 1 or > 100_000_000)
        {
            failures.Add($"{SectionName}:{nameof(MaxEvents)} must be between 1 and 100,000,000 (was {MaxEvents:N0}).");
        }

        if (MaxBytes is < 1024 * 1024 or > 1024L * 1024 * 1024 * 1024)
        {
            failures.Add($"{SectionName}:{nameof(MaxBytes)} must be between 1,048,576 (1 MiB) and 1,099,511,627,776 (1 TiB) (was {MaxBytes:N0}).");
        }

        return failures;
    }
}
