namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// N subscribers with one reader task each, counting down a shared counter so the publishing
/// thread can wait, without allocating, until the last subscriber has read an event.
/// </summary>
internal sealed class FanOut : IAsyncDisposable
{
    private readonly List<GraphEventSubscription> _subscriptions = [];
    private readonly List<Task> _readers = [];
    private readonly ManualResetEventSlim _allRead = new(false);
    private readonly Action<GraphEventFrame>? _onFrame;
    private int _remaining;

    public FanOut(IGraphEventBroadcaster broadcaster, int subscribers, Action<GraphEventFrame>? onFrame = null)
    {
        Broadcaster = broadcaster;
        _onFrame = onFrame;
        for (var i = 0; i < subscribers; i++)
        {
            var subscription = broadcaster.Subscribe(); // at the limit: GraphEventSubscriberLimitException naming it
            subscription.TryRead(out _);
            _subscriptions.Add(subscription);
            _readers.Add(Task.Run(() => ReadAsync(subscription)));
        }
    }

    public IGraphEventBroadcaster Broadcaster { get; }

    public int Subscribers => _subscriptions.Count;

    /// <summary>Expects the next <paramref name="events"/> events to reach every subscriber.</summary>
    public void Expect(int events)
    {
        _allRead.Reset();
        Volatile.Write(ref _remaining, events * _subscriptions.Count);
    }

    public void WaitAll()
    {
        if (!_allRead.Wait(TimeSpan.FromMinutes(1)))
        {
            throw new TimeoutException($"Subscribers did not read everything: {Volatile.Read(ref _remaining)} deliveries missing.");
        }
    }

    private async Task ReadAsync(GraphEventSubscription subscription)
    {
        while (await subscription.WaitToReadAsync().ConfigureAwait(false))
        {
            while (subscription.TryRead(out var frame))
            {
                if (frame.Event is HeartbeatEvent)
                {
                    continue;
                }

                _onFrame?.Invoke(frame);
                if (Interlocked.Decrement(ref _remaining) == 0)
                {
                    _allRead.Set();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscriptions.ForEach(s => s.Dispose());
        await Task.WhenAll(_readers).ConfigureAwait(false);
        _allRead.Dispose();
    }
}
