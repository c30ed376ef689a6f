namespace Pml.GraphEvents.AspNetCore;

/// <summary>
/// Lets one log message through per interval and counts the occurrences in between, so that a
/// flood (one client refused a thousand times a second) costs one line per interval, not a line
/// per request, and the line still says how many there were.
/// </summary>
internal sealed class LogThrottle(TimeProvider clock, TimeSpan interval)
{
    private readonly long _intervalTimestamps = (long)(interval.TotalSeconds * clock.TimestampFrequency);

    // When the next message may pass, in the clock's timestamps; the first always passes.
    private long _next = long.MinValue;
    private long _held;

    /// <summary>
    /// Counts one occurrence. Returns <see langword="true"/>, with the occurrences since the last
    /// message (this one included), when a message may be logged now.
    /// </summary>
    public bool TryPass(out long occurrences)
    {
        Interlocked.Increment(ref _held);
        var now = clock.GetTimestamp();
        var next = Volatile.Read(ref _next);

        // Of the threads that find the interval over, the one whose CAS moves it on logs; the others
        // stay counted for the next message. An occurrence counted between that CAS and the
        // exchange below goes into this message rather than the next: the sum over messages is exact.
        if (now < next || Interlocked.CompareExchange(ref _next, now + _intervalTimestamps, next) != next)
        {
            occurrences = 0;
            return false;
        }

        occurrences = Interlocked.Exchange(ref _held, 0);
        return true;
    }
}
