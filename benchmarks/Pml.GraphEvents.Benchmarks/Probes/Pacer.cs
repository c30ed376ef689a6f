using System.Diagnostics;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// Paces an open-loop publisher at a fixed rate. It sleeps, not spins, until the next event is
/// due: a spinning publisher would take one of the machine's two cores away from the pump and
/// the readers and inflate every figure. The schedule is absolute, so a late event does not
/// push back the ones after it.
/// </summary>
internal sealed class Pacer(int eventsPerSecond)
{
    private readonly long _interval = Stopwatch.Frequency / eventsPerSecond;

    public long Start { get; } = Stopwatch.GetTimestamp();

    /// <summary>Waits until event number <paramref name="sequence"/> (from 1) is due, and returns the time it is published at.</summary>
    public long WaitFor(long sequence)
    {
        var due = Start + (sequence * _interval);
        while (Stopwatch.GetTimestamp() < due)
        {
            Thread.Sleep(due - Stopwatch.GetTimestamp() > _interval / 2 ? 1 : 0);
        }

        return Stopwatch.GetTimestamp();
    }
}
