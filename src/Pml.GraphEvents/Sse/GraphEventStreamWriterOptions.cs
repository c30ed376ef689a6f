namespace Pml.GraphEvents;

/// <summary>How <see cref="GraphEventStreamWriter"/> writes a subscription as a Server-Sent Events stream.</summary>
/// <remarks>
/// Not sealed so that the ASP.NET Core endpoint's options (<c>GraphEventStreamOptions</c>, bound from
/// <c>GraphEvents:Stream</c>) are these settings plus the HTTP ones, as <c>BoundedChannelOptions</c>
/// extends <c>ChannelOptions</c>: each setting, its default and its range are declared here once, and
/// the endpoint hands its options to the writer as they are.
/// </remarks>
public class GraphEventStreamWriterOptions
{
    /// <summary>The smallest <see cref="MaxStreamDuration"/>: shorter would make clients reconnect more than they read.</summary>
    internal static readonly TimeSpan MinStreamDuration = TimeSpan.FromSeconds(1);

    /// <summary>The largest <see cref="MaxStreamDuration"/>.</summary>
    internal static readonly TimeSpan MaxStreamDurationLimit = TimeSpan.FromHours(24);

    /// <summary>
    /// Sent once as <c>retry:</c> when the stream opens: how long an <c>EventSource</c> waits
    /// before it reconnects after the stream closes. More than zero and at most one hour; default 3 seconds.
    /// </summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The longest one flush may take. A client that stops reading while its socket stays open
    /// fills the TCP window and then every flush waits forever; after this long the stream is
    /// ended and counted as evicted. More than zero and at most one hour; default 10 seconds.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Frames ready at once are written together and flushed once, up to about this many bytes
    /// (a larger single frame is still written whole). 1,024 to 16,777,216; default 65,536.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The longest one stream stays open. After a duration drawn between nine tenths of this and
    /// this (never more, so the bound holds; random, so that streams opened together do not all
    /// reconnect in the same instant), the writer ends the subscription, writes what it held and
    /// returns <see cref="GraphEventStreamEndReason.MaxDurationReached"/>: the stream closes cleanly
    /// and the client reconnects after <c>retry:</c> with <c>Last-Event-ID</c>, missing nothing. It
    /// bounds how long a client that never reads holds its subscriber slot while the stream is
    /// quiet: the socket buffers on both ends absorb heartbeats for days before a flush blocks, so
    /// <see cref="WriteTimeout"/> alone never sees such a client. <see langword="null"/> (an empty value
    /// in configuration): no limit.
    /// At least 1 second and at most 24 hours; default 10 minutes.
    /// </summary>
    public TimeSpan? MaxStreamDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The clock of <see cref="WriteTimeout"/> and <see cref="MaxStreamDuration"/>; <see cref="TimeProvider.System"/>
    /// when <see langword="null"/> (for the ASP.NET Core endpoint: the container's <see cref="System.TimeProvider"/>).
    /// Set in code only.
    /// </summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Every problem with these settings, each named <paramref name="optionPrefix"/> + the option; empty when they are valid.</summary>
    /// <param name="optionPrefix">
    /// Empty for the writer's own argument check (<c>WriteTimeout must be ...</c>); the configuration
    /// section and a colon for options bound from one (<c>GraphEvents:Stream:WriteTimeout must be ...</c>),
    /// so that a start-up error names the key to fix.
    /// </param>
    internal List<string> Validate(string optionPrefix)
    {
        List<string> failures = [];
        CheckDuration(failures, optionPrefix, nameof(RetryInterval), RetryInterval);
        CheckDuration(failures, optionPrefix, nameof(WriteTimeout), WriteTimeout);
        if (MaxBatchBytes is < 1024 or > 16 * 1024 * 1024)
        {
            failures.Add($"{optionPrefix}{nameof(MaxBatchBytes)} must be between 1,024 and 16,777,216 (was {MaxBatchBytes:N0}).");
        }

        if (MaxStreamDuration is { } duration && (duration < MinStreamDuration || duration > MaxStreamDurationLimit))
        {
            failures.Add($"{optionPrefix}{nameof(MaxStreamDuration)} must be at least 1 second and at most 24 hours, or null (empty in configuration) for no limit (was {duration}).");
        }

        return failures;
    }

    private static void CheckDuration(List<string> failures, string optionPrefix, string name, TimeSpan value)
    {
        // Whole milliseconds: retry: is written in milliseconds, and 0 would mean "reconnect at once".
        if (value < TimeSpan.FromMilliseconds(1) || value > TimeSpan.FromHours(1))
        {
            failures.Add($"{optionPrefix}{name} must be at least 1 ms and at most one hour (was {value}).");
        }
    }
}
