namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// A way to deliver one event to N in-process subscribers, measured side by side. Each reports
/// every delivery through the callback it was built with, passing the event's sequence number
/// (1, 2, 3, … in publish order).
/// </summary>
internal interface IFanOutCandidate : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Publishes the event numbered <paramref name="sequence"/>; returns when the publisher may go on.</summary>
    ValueTask PublishAsync(EdgeCreatedEvent graphEvent, long sequence);
}

/// <summary>The candidates of the in-process comparison.</summary>
internal static class FanOutCandidates
{
    public const string Ours = "Pml.GraphEvents";
    public const string Story = "Story design (awaits each client)";
    public const string Rx = "Rx Subject (inline)";

    public static IReadOnlyList<string> All { get; } = [Ours, Story, Rx];

    public static IFanOutCandidate Create(string name, int subscribers, Action<long> delivered) => name switch
    {
        Ours => new OursCandidate(subscribers, delivered),
        Story => new StoryEventsStream(subscribers, delivered),
        Rx => new RxSubjectCandidate(subscribers, delivered),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
