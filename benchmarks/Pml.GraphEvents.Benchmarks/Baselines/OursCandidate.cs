namespace Pml.GraphEvents.Benchmarks;

/// <summary>Our broadcaster with one reader task per subscriber.</summary>
internal sealed class OursCandidate : IFanOutCandidate
{
    private readonly IGraphEventBroadcaster _broadcaster;
    private readonly FanOut _fanOut;

    public OursCandidate(int subscribers, Action<long> delivered)
    {
        _broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            MaxSubscribers = Math.Max(1, subscribers),
            SubscriberBufferCapacity = 100_000,
            IngressCapacity = 1_000_000,
        });
        _fanOut = new FanOut(_broadcaster, subscribers, frame => delivered(frame.Offset));
    }

    public string Name => FanOutCandidates.Ours;

    public ValueTask PublishAsync(EdgeCreatedEvent graphEvent, long sequence)
    {
        // Ids start at 1 in a fresh broadcaster, so the frame id is the sequence number.
        _broadcaster.TryPublish(graphEvent);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _fanOut.DisposeAsync();
        await _broadcaster.DisposeAsync();
    }
}
