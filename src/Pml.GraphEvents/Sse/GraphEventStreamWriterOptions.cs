namespace Pml.GraphEvents;

/// <summary>How <see cref="GraphEventStreamWriter"/> writes a subscription as a Server-Sent Events stream.</summary>
public sealed class GraphEventStreamWriterOptions
{
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

    /// <summary>The clock of <see cref="WriteTimeout"/>; <see cref="TimeProvider.System"/> when <see langword="null"/>.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Every problem with these options, each naming the option; empty when they are valid.</summary>
    internal List<string> Validate()
    {
        List<string> failures = [];
        CheckDuration(failures, nameof(RetryInterval), RetryInterval);
        CheckDuration(failures, nameof(WriteTimeout), WriteTimeout);
        if (MaxBatchBytes is < 1024 or > 16 * 1024 * 1024)
        {
            failures.Add($"{nameof(MaxBatchBytes)} must be between 1,024 and 16,777,216 (was {MaxBatchBytes:N0}).");
        }

        return failures;
    }

    private static void CheckDuration(List<string> failures, string name, TimeSpan value)
    {
        // Whole milliseconds: retry: is written in milliseconds, and 0 would mean "reconnect at once".
        if (value < TimeSpan.FromMilliseconds(1) || value > TimeSpan.FromHours(1))
        {
            failures.Add($"{name} must be at least 1 ms and at most one hour (was {value}).");
        }
    }
}
