namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The server's CPU time from <see cref="Start"/> to <see cref="Stop"/>: the sum of its threads'
/// run times in nanoseconds; when a thread that was there at the start has ended by the stop (its
/// time is gone from /proc), the process's 10 ms clock ticks instead, and the result says so.
/// </summary>
internal sealed class EndToEndCpuMeter(int pid)
{
    private Dictionary<int, long> _threads = [];
    private double _processSeconds;

    public void Start()
    {
        _threads = EndToEndProcessTimes.ThreadNanoseconds(pid);
        _processSeconds = EndToEndProcessTimes.ProcessSeconds(pid);
    }

    /// <summary>The CPU seconds since <see cref="Start"/>, and whether they are per-thread nanoseconds (precise) or process ticks.</summary>
    public (double Seconds, bool Precise) Stop()
    {
        var after = EndToEndProcessTimes.ThreadNanoseconds(pid);
        var processSeconds = EndToEndProcessTimes.ProcessSeconds(pid);
        if (!_threads.Keys.All(after.ContainsKey))
        {
            return (processSeconds - _processSeconds, false);
        }

        long nanoseconds = 0;
        foreach (var (tid, ns) in after)
        {
            nanoseconds += ns - _threads.GetValueOrDefault(tid);
        }

        return (nanoseconds / 1e9, true);
    }
}
