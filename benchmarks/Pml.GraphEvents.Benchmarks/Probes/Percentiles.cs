using System.Diagnostics;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>Latency samples in Stopwatch ticks, and their percentiles in microseconds.</summary>
internal sealed class Percentiles
{
    private readonly long[] _samples;
    private long _count;

    public Percentiles(long capacity) => _samples = new long[capacity];

    public int Count => (int)Math.Min(Interlocked.Read(ref _count), _samples.Length);

    /// <summary>Thread-safe: readers on many threads add at once.</summary>
    public void Add(long ticks)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        if (index < _samples.Length)
        {
            _samples[index] = ticks;
        }
    }

    public LatencySummary Summarize(double eventsPerSecond)
    {
        var count = Count;
        Array.Sort(_samples, 0, count);
        double Micros(double p) => count == 0 ? double.NaN : _samples[Math.Min(count - 1, (int)(p * count))] * 1_000_000.0 / Stopwatch.Frequency;
        return new LatencySummary(count, eventsPerSecond, Micros(0.50), Micros(0.95), Micros(0.99), Micros(1.0));
    }
}

/// <summary>One row of a latency table.</summary>
internal readonly record struct LatencySummary(int Deliveries, double EventsPerSecond, double P50, double P95, double P99, double Max);
