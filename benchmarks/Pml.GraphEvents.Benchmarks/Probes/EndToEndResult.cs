namespace Pml.GraphEvents.Benchmarks;

/// <summary>What one scenario measured.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Executions">Measured executions.</param>
/// <param name="Posts">Measured POSTs.</param>
/// <param name="Events">Events the server published in the run (from the graph's as_of_event_id before and after).</param>
/// <param name="Frames">Event frames delivered: events × readers, each checked.</param>
/// <param name="WritesPerClient">The server's writes (HTTP chunks) to each client in the run, the median over clients (0 without readers).</param>
/// <param name="WallSeconds">First POST sent → last POST answered (no readers) or last frame read.</param>
/// <param name="ServerCpuSeconds">The server's user + system CPU over the run, until it was idle again.</param>
/// <param name="PreciseCpu">Per-thread nanoseconds (true) or the process's 10 ms ticks (a thread ended).</param>
/// <param name="JitMilliseconds">CPU of the server's tiered-compilation thread within the run (warm-up residue).</param>
/// <param name="ProbeCpuSeconds">This process's CPU over the same span (the clients, on the same cores).</param>
/// <param name="TargetPostsPerSecond">The paced rate, 0 for a burst.</param>
/// <param name="EventsPerPost">Events per POST, counted from a reader's frames in the warm-up (0 without readers).</param>
/// <param name="Latencies">Latency percentiles, each with what it measures.</param>
internal sealed record EndToEndResult(
    EndToEndScenario Scenario,
    long Executions,
    long Posts,
    long Events,
    long Frames,
    double WritesPerClient,
    double WallSeconds,
    double ServerCpuSeconds,
    bool PreciseCpu,
    double JitMilliseconds,
    double ProbeCpuSeconds,
    int TargetPostsPerSecond,
    double EventsPerPost,
    IReadOnlyList<(string Measure, LatencySummary Summary)> Latencies)
{
    public double CpuMicrosecondsPerExecution => ServerCpuSeconds * 1e6 / Executions;

    public double? CpuMicrosecondsPerFrame => Frames > 0 ? ServerCpuSeconds * 1e6 / Frames : null;
}
