namespace Pml.GraphEvents;

/// <summary>
/// The execution ids learned recently, for duplicate detection: at most a count, none older than an
/// age (<see cref="ToolGraphEngineOptions.DuplicateWindowCount"/> and <see cref="ToolGraphEngineOptions.DuplicateWindowAge"/>).
/// Oldest first in a queue, so forgetting costs O(1) per id. Not thread-safe: the engine's writer owns it.
/// </summary>
internal sealed class LearnedExecutionWindow(int maxCount, TimeSpan maxAge)
{
    private readonly Dictionary<string, DateTimeOffset> _learned = new(StringComparer.Ordinal);
    private readonly Queue<LearnedExecution> _order = new();

    public int Count => _learned.Count;

    /// <summary>Whether <paramref name="executionId"/> was learned within the window as of <paramref name="now"/>.</summary>
    public bool Contains(string executionId, DateTimeOffset now) =>
        _learned.TryGetValue(executionId, out var at) && now - at <= maxAge;

    /// <summary>Replaces the window with what a store remembered (oldest first).</summary>
    public void Load(IEnumerable<LearnedExecution> learned, DateTimeOffset now)
    {
        _learned.Clear();
        _order.Clear();
        foreach (var execution in learned)
        {
            Add(execution);
        }

        Trim(now);
    }

    public void Add(LearnedExecution execution)
    {
        if (maxCount == 0)
        {
            return;
        }

        // A repeat of an id that aged out is learned again; the queue keeps its older entry, which
        // Trim skips because the dictionary then holds the newer time.
        _learned[execution.ExecutionId] = execution.LearnedAt;
        _order.Enqueue(execution);
    }

    /// <summary>Forgets ids beyond the count and older than the age.</summary>
    public void Trim(DateTimeOffset now)
    {
        while (_order.TryPeek(out var oldest) && (_learned.Count > maxCount || now - oldest.LearnedAt > maxAge || !IsCurrent(oldest)))
        {
            _order.Dequeue();
            if (IsCurrent(oldest))
            {
                _learned.Remove(oldest.ExecutionId);
            }
        }
    }

    private bool IsCurrent(LearnedExecution entry) =>
        _learned.TryGetValue(entry.ExecutionId, out var at) && at == entry.LearnedAt;
}
