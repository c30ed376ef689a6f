namespace Pml.GraphEvents;

/// <summary>
/// Settings of the tool graph engine. Bound from the <c>GraphEvents:Engine</c> configuration
/// section by <c>AddToolGraphEngine(configuration)</c> and validated when the host starts.
/// </summary>
public sealed class ToolGraphEngineOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "GraphEvents:Engine";

    /// <summary>
    /// When <see langword="false"/> (the default, as in the story), an execution's tools that the
    /// graph does not know are ignored, with their edges. When <see langword="true"/>, they are
    /// registered (id only) the first time an execution names them.
    /// </summary>
    public bool AutoRegisterUnknownTools { get; set; }

    /// <summary>Seed of the Louvain node order: the same graph and seed always give the same communities. Default 42.</summary>
    public int CommunitySeed { get; set; } = 42;

    /// <summary>A sync loads only edges whose confidence is above this. 0 to 1; default 0.3, as in the story.</summary>
    public double SyncConfidenceThreshold { get; set; } = 0.3;

    /// <summary>
    /// The most edge observations (edge events) one execution may make, after a task's repeated
    /// dependencies are counted once. An execution over it is refused before anything is learned,
    /// so that one request cannot emit an unbounded burst of events. Keep it below the
    /// subscriber buffer capacity so one execution's burst never evicts a reader that keeps up.
    /// 1 to 100,000; default 1,000.
    /// </summary>
    public int MaxEdgesPerExecution { get; set; } = 1_000;

    /// <summary>
    /// How many of the most recently learned execution ids are remembered: an execution whose
    /// <see cref="WorkflowExecution.Id"/> is among them is answered as a duplicate and not learned
    /// again (a client may retry a POST whose answer it lost). The store keeps them with the graph,
    /// in the same transaction, so the window survives a restart with a store that persists (SQLite).
    /// An id also leaves the window after <see cref="DuplicateWindowAge"/>. 0 to 10,000,000; 0
    /// turns duplicate detection off; default 100,000. Memory grows with it: per id, its string, a
    /// timestamp, a dictionary entry and a queue entry.
    /// </summary>
    public int DuplicateWindowCount { get; set; } = 100_000;

    /// <summary>
    /// How long a learned execution id is remembered (see <see cref="DuplicateWindowCount"/>): a retry
    /// later than this is learned again. More than zero and at most 365 days; default 24 hours.
    /// </summary>
    public TimeSpan DuplicateWindowAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Every problem with these options, each naming the option; empty when they are valid.</summary>
    internal List<string> Validate()
    {
        List<string> failures = [];
        if (!(SyncConfidenceThreshold >= 0 && SyncConfidenceThreshold <= 1))
        {
            failures.Add($"{SectionName}:{nameof(SyncConfidenceThreshold)} must be between 0 and 1 (was {SyncConfidenceThreshold}).");
        }

        if (MaxEdgesPerExecution is < 1 or > 100_000)
        {
            failures.Add($"{SectionName}:{nameof(MaxEdgesPerExecution)} must be between 1 and 100,000 (was {MaxEdgesPerExecution:N0}).");
        }

        if (DuplicateWindowCount is < 0 or > 10_000_000)
        {
            failures.Add($"{SectionName}:{nameof(DuplicateWindowCount)} must be between 0 and 10,000,000 (was {DuplicateWindowCount:N0}).");
        }

        if (DuplicateWindowAge <= TimeSpan.Zero || DuplicateWindowAge > TimeSpan.FromDays(365))
        {
            failures.Add($"{SectionName}:{nameof(DuplicateWindowAge)} must be more than zero and at most 365 days (was {DuplicateWindowAge}).");
        }

        return failures;
    }
}
