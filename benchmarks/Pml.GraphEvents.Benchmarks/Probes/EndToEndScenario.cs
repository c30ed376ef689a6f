namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// One end-to-end scenario: who listens, what is posted and how fast. A burst posts its
/// <see cref="Executions"/> back to back (one POST in flight); a paced run posts open loop at the
/// rate that makes the server emit <see cref="EventsPerSecond"/> events, for <see cref="Seconds"/>.
/// </summary>
/// <param name="Name">The scenario's short name (also the suffix of a <c>--perf</c> file).</param>
/// <param name="Title">What the tables call it.</param>
/// <param name="Clients">SSE readers.</param>
/// <param name="Batch">Executions per POST.</param>
/// <param name="Executions">Measured executions of a burst (0 for a paced run).</param>
/// <param name="EventsPerSecond">The target event rate of a paced run (0 for a burst).</param>
/// <param name="Seconds">The length of a paced run.</param>
/// <param name="WarmUp">Warm-up executions before the readers connect (JIT, SQLite pages, the graph's shape).</param>
/// <param name="JitRounds">Warm-up rounds of <paramref name="WarmUp"/>/4 executions after a pause each, with the readers connected.</param>
internal sealed record EndToEndScenario(
    string Name,
    string Title,
    int Clients,
    int Batch,
    int Executions,
    int EventsPerSecond,
    double Seconds,
    int WarmUp,
    int JitRounds)
{
    public bool Paced => EventsPerSecond > 0;

    /// <summary>The three scenarios of issue 16: ingest alone, a burst to 100 clients, a steady 1,000 events/s to 100 clients.</summary>
    public static IReadOnlyList<EndToEndScenario> All(bool quick)
    {
        var (warmUp, jitRounds) = quick ? (200, 1) : (2_000, 4);
        return
        [
            new("ingest", "Ingest alone", 0, 10, quick ? 500 : 5_000, 0, 0, warmUp, jitRounds),
            new("burst", "Burst to 100 clients", 100, 10, quick ? 200 : 3_000, 0, 0, warmUp, jitRounds),

            // POSTs of one execution each, as agents report executions as they finish.
            new("steady", "1,000 events/s to 100 clients", 100, 1, 0, 1_000, quick ? 1 : 5, warmUp, jitRounds),
        ];
    }
}
