using System.Diagnostics;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// An open-loop schedule at a fixed rate that only ever sleeps. <see cref="Pacer"/> yields in a
/// loop (<c>Thread.Sleep(0)</c>) for the last half of each interval, for precision: at 225 POSTs/s
/// that is a busy thread taking a fifth of a core from the server under test. Here a POST leaves
/// up to about a millisecond after it is due (Thread.Sleep's granularity); its latency is counted
/// from when it actually left, and the schedule is absolute, so a late POST does not push back the
/// ones after it and the rate holds.
/// </summary>
internal sealed class EndToEndSchedule(int perSecond)
{
    private readonly long _interval = Stopwatch.Frequency / perSecond;

    public long Start { get; } = Stopwatch.GetTimestamp();

    /// <summary>Sleeps until item <paramref name="sequence"/> (from 1) is due; returns the time it leaves at.</summary>
    public long WaitFor(long sequence)
    {
        var due = Start + (sequence * _interval);
        long now;
        while ((now = Stopwatch.GetTimestamp()) < due)
        {
            Thread.Sleep(Math.Max(1, (int)((due - now) * 1_000 / Stopwatch.Frequency)));
        }

        return now;
    }
}
