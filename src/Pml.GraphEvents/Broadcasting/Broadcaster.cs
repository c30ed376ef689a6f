using System.Threading.Channels;

namespace Pml.GraphEvents;

/// <summary>
/// The broadcaster behind <see cref="IGraphEventBroadcaster"/>. Publishers write to a bounded
/// ingress channel; one pump task reads it, gives each event its id, encodes its frame once,
/// keeps it for replay and offers the same frame to every subscriber's buffer with a
/// non-blocking write. Nothing a subscriber does can make a publisher or another subscriber wait.
/// </summary>
internal sealed class Broadcaster : IGraphEventBroadcaster
{
    private readonly int _maxSubscribers;
    private readonly int _subscriberBufferCapacity;
    private readonly bool _dropOldest;
    private readonly TimeProvider _timeProvider;
    private readonly long _startTimestamp;
    private readonly Channel<IngressItem> _ingress;
    private readonly IGraphEventBackplane? _backplane;
    private readonly Task _pump;
    private readonly ITimer _heartbeatTimer;
    private readonly GraphEventsMetrics _metrics;

    // Guards the subscriber set, the replay ring and the last id together. Subscribe takes a
    // consistent cut under it (replay up to id N, live from N + 1), and the pump takes it once
    // per event for a few instructions, never while it delivers.
    private readonly Lock _gate = new();
    private readonly ReplayRing _ring;

    // Copy-on-write: the pump iterates a snapshot without a lock while subscribes and disposals
    // swap in a new array, so subscription changes cost O(N) once instead of a lock per frame.
    private GraphEventSubscription[] _subscribers = [];
    private long _lastId;
    private readonly long _idStart;
    private int _disposed;

    private long _eventsPublished;
    private long _framesDelivered;
    private long _subscribersEvicted;
    private long _framesDropped;
    private long _subscribesRefused;
    private long _publishesRejected;

    public Broadcaster(GraphEventsOptions options, TimeProvider timeProvider, GraphEventsMetrics? metrics = null, IGraphEventBackplane? backplane = null)
    {
        // Copied, not referenced: options are a mutable class and must not change under a running pump.
        _maxSubscribers = options.MaxSubscribers;
        _subscriberBufferCapacity = options.SubscriberBufferCapacity;
        _dropOldest = options.SlowSubscriberPolicy == SlowSubscriberPolicy.DropOldest;
        _timeProvider = timeProvider;
        _startTimestamp = timeProvider.GetTimestamp();
        _ring = new ReplayRing(options.ReplayCapacity) { Floor = options.EventIdStart, RunStart = options.EventIdStart };
        _lastId = options.EventIdStart;
        _idStart = options.EventIdStart;
        _ingress = Channel.CreateBounded<IngressItem>(new BoundedChannelOptions(options.IngressCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,

            // The pump's continuation must not run on a publisher's thread: publishing stays O(1).
            AllowSynchronousContinuations = false,
        });
        _pump = Task.Run(PumpAsync);
        _heartbeatTimer = timeProvider.CreateTimer(static state => ((Broadcaster)state!).Beat(), this, options.HeartbeatInterval, options.HeartbeatInterval);
        _metrics = metrics ?? GraphEventsMetrics.Shared;
        _metrics.Attach(this);
        _backplane = backplane;
        backplane?.Attach(this);
    }

    /// <summary>The instruments this broadcaster reports to; stream writers record delivery on them too.</summary>
    internal GraphEventsMetrics Metrics => _metrics;

    /// <summary>The clock of dispatch timestamps, so a writer measures latency on the same clock.</summary>
    internal TimeProvider TimeProvider => _timeProvider;

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    public bool TryPublish(GraphEvent graphEvent)
    {
        CheckPublishable(graphEvent);

        // Behind a backplane the shared log numbers events, and this host receives its own back
        // from it; one null check is all the single-host path pays for that.
        if (_backplane is null ? _ingress.Writer.TryWrite(new IngressItem(graphEvent, 0)) : TryPublishToBackplane(graphEvent))
        {
            return true;
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _publishesRejected);
        return false;
    }

    public async ValueTask PublishAsync(GraphEvent graphEvent, CancellationToken cancellationToken = default)
    {
        CheckPublishable(graphEvent);
        try
        {
            if (_backplane is null)
            {
                await _ingress.Writer.WriteAsync(new IngressItem(graphEvent, 0), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
                await _backplane.PublishAsync(graphEvent, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(GetType().FullName);
        }
    }

    /// <summary>
    /// Sets where a backplane's log starts for this host: every id up to <paramref name="afterId"/>
    /// was issued before it began reading, so a resume from before it is asked of the backplane.
    /// Called by the backplane once, before its first <see cref="WriteSequencedAsync"/>.
    /// </summary>
    internal void StartSequenceAfter(long afterId)
    {
        lock (_gate)
        {
            if (Volatile.Read(ref _lastId) == _idStart)
            {
                // The backplane's ids are unique across runs already: its log, not a run start,
                // decides what a resume from an older id gets.
                _ring.RunStart = 0;
                _ring.Floor = afterId;
                Volatile.Write(ref _lastId, afterId);
            }
        }
    }

    /// <summary>
    /// Queues an event the backplane read from the shared log, under the log's <paramref name="id"/>.
    /// Waits while the ingress is full, so a backlog stays in the log instead of in memory.
    /// </summary>
    /// <exception cref="ChannelClosedException">The broadcaster was disposed.</exception>
    internal ValueTask WriteSequencedAsync(long id, GraphEvent graphEvent, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id);
        return _ingress.Writer.WriteAsync(new IngressItem(graphEvent, id), cancellationToken);
    }

    private bool TryPublishToBackplane(GraphEvent graphEvent)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _backplane!.TryPublish(graphEvent);
    }

    public SubscribeResult Subscribe(GraphEventSubscribeOptions? options = null)
    {
        var mask = ParseFilter(options?.EventTypes);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // A stampede at the limit is refused before anything is allocated; the check under the
        // lock below is the one that decides.
        if (Volatile.Read(ref _subscribers).Length >= _maxSubscribers)
        {
            Interlocked.Increment(ref _subscribesRefused);
            return new SubscribeResult(null, _maxSubscribers);
        }

        var subscription = new GraphEventSubscription(
            this,
            new SubscriberQueue(_subscriberBufferCapacity, _dropOldest),
            mask,
            _timeProvider);

        int connectedClients;
        ReplayPlan plan;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);

            // Checked and added under one lock: concurrent subscribes can never overshoot the limit.
            if (_subscribers.Length >= _maxSubscribers)
            {
                Interlocked.Increment(ref _subscribesRefused);
                return new SubscribeResult(null, _maxSubscribers);
            }

            Volatile.Write(ref _subscribers, [.. _subscribers, subscription]);
            connectedClients = _subscribers.Length;
            plan = _ring.PlanResume(options?.LastEventId, _lastId, _backplane);
        }

        // Encoding happens outside the lock; the subscription is not handed out yet, so nobody
        // reads it before Start, and the pump only touches its queue.
        var now = _timeProvider.GetUtcNow();
        var connected = SseFrameEncoder.CreateFrame(plan.StartId, new ConnectedEvent(subscription.ClientId, connectedClients, now));
        var loss = plan.LostReason is null ? null : SseFrameEncoder.CreateFrame(null, new EventsLostEvent(plan.LostReason, plan.LostCount, now));
        var gap = plan.GapThrough == 0 ? null : _backplane!.FetchAsync(plan.StartId, plan.GapThrough, mask);
        subscription.Start(connected, loss, plan.Replay, plan.LostCount ?? 0, gap, plan.SkipThrough);
        return new SubscribeResult(subscription, _maxSubscribers);
    }

    public GraphEventBroadcasterStatistics GetStatistics() => new(
        SubscriberCount,
        Interlocked.Read(ref _lastId),
        Interlocked.Read(ref _eventsPublished),
        Interlocked.Read(ref _framesDelivered),
        Interlocked.Read(ref _subscribersEvicted),
        Interlocked.Read(ref _framesDropped),
        Interlocked.Read(ref _subscribesRefused),
        Interlocked.Read(ref _publishesRejected));

    internal void Unsubscribe(GraphEventSubscription subscription, SubscriptionEndReason reason)
    {
        if (!subscription.End(reason))
        {
            return;
        }

        lock (_gate)
        {
            var current = _subscribers;
            var index = Array.IndexOf(current, subscription);
            if (index < 0)
            {
                return;
            }

            var next = new GraphEventSubscription[current.Length - 1];
            Array.Copy(current, 0, next, 0, index);
            Array.Copy(current, index + 1, next, index, current.Length - index - 1);
            Volatile.Write(ref _subscribers, next);
        }
    }

    /// <summary>Takes subscriptions that lagged out of the snapshot with one copy of the array.</summary>
    private void RemoveLagging(List<GraphEventSubscription> lagging)
    {
        var ended = new HashSet<GraphEventSubscription>(lagging, ReferenceEqualityComparer.Instance);
        lock (_gate)
        {
            Volatile.Write(ref _subscribers, [.. _subscribers.Where(s => !ended.Contains(s))]);
        }
    }

    private async Task PumpAsync()
    {
        var reader = _ingress.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                Dispatch(item.Event, item.Id);
            }
        }
    }

    private void Dispatch(GraphEvent @event, long sequencedId)
    {
        GraphEventFrame frame;
        GraphEventSubscription[] subscribers;
        if (@event is HeartbeatEvent)
        {
            // Heartbeats carry no id and are not kept for replay: they must not move a client's
            // Last-Event-ID, and replaying a stale keep-alive would tell nobody anything.
            frame = SseFrameEncoder.CreateFrame(null, @event, _timeProvider.GetTimestamp());
            subscribers = Volatile.Read(ref _subscribers);
        }
        else
        {
            // Only the pump writes _lastId once events flow, so it can read it without the lock.
            var id = _lastId + 1;
            if (sequencedId != 0)
            {
                // The backplane's log numbers this event. Its ids only increase; one that does not
                // (a log read again after a failure) was delivered already and must not be again.
                if (sequencedId <= _lastId)
                {
                    return;
                }

                id = sequencedId;
            }

            frame = SseFrameEncoder.CreateFrame(id, @event, _timeProvider.GetTimestamp());
            lock (_gate)
            {
                _ring.Add(frame);
                Volatile.Write(ref _lastId, id);
                subscribers = _subscribers;
            }
        }

        long delivered = 0;
        long dropped = 0;
        List<GraphEventSubscription>? lagging = null;
        foreach (var subscriber in subscribers)
        {
            if ((subscriber.Mask & frame.Kind) == 0)
            {
                continue;
            }

            switch (subscriber.Queue.TryEnqueue(frame))
            {
                case EnqueueResult.Enqueued:
                    delivered++;
                    break;
                case EnqueueResult.DroppedOldest:
                    delivered++;
                    dropped++;
                    break;
                case EnqueueResult.Full:
                    // Ended now (so nothing more is enqueued for it), removed from the snapshot
                    // below in one pass: when many lag at once, that is one copy, not one each.
                    if (subscriber.End(SubscriptionEndReason.Lagging))
                    {
                        (lagging ??= []).Add(subscriber);
                    }

                    break;
                case EnqueueResult.Closed:
                    break;
            }
        }

        if (lagging is not null)
        {
            RemoveLagging(lagging);
            Interlocked.Add(ref _subscribersEvicted, lagging.Count);
        }

        Interlocked.Add(ref _framesDropped, dropped);
        Interlocked.Add(ref _framesDelivered, delivered);
        Interlocked.Increment(ref _eventsPublished);
    }

    private void Beat()
    {
        if (Volatile.Read(ref _disposed) != 0 || SubscriberCount == 0)
        {
            return;
        }

        var uptime = (long)_timeProvider.GetElapsedTime(_startTimestamp).TotalSeconds;

        // A full ingress means the pump is behind on real events; a skipped keep-alive costs nothing.
        _ingress.Writer.TryWrite(new IngressItem(new HeartbeatEvent(SubscriberCount, uptime, _timeProvider.GetUtcNow()), 0));
    }

    private static void CheckPublishable(GraphEvent graphEvent)
    {
        ArgumentNullException.ThrowIfNull(graphEvent);
        if (graphEvent.Kind is GraphEventKind.Connected or GraphEventKind.EventsLost)
        {
            throw new ArgumentException($"'{graphEvent.EventType}' events are addressed to one subscriber and are created by the broadcaster; they cannot be published.", nameof(graphEvent));
        }
    }

    private static GraphEventKind ParseFilter(IReadOnlyCollection<string>? eventTypes)
    {
        if (eventTypes is null)
        {
            return GraphEventKind.All;
        }

        var mask = GraphEventKind.Control;
        List<string>? unknown = null;
        foreach (var name in eventTypes)
        {
            if (GraphEventTypes.IsKnown(name))
            {
                mask |= GraphEventTypes.KindOf(name);
            }
            else
            {
                (unknown ??= []).Add(name);
            }
        }

        if (unknown is not null)
        {
            throw new ArgumentException(
                $"Unknown event type(s): {string.Join(", ", unknown.Select(n => $"'{n}'"))}. Known types: {string.Join(", ", GraphEventTypes.All)}.",
                nameof(eventTypes));
        }

        return mask;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _heartbeatTimer.DisposeAsync().ConfigureAwait(false);
        _metrics.Detach(this);

        // Deliver what was already accepted, then end every subscription.
        _ingress.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        GraphEventSubscription[] subscribers;
        lock (_gate)
        {
            subscribers = _subscribers;
        }

        foreach (var subscriber in subscribers)
        {
            Unsubscribe(subscriber, SubscriptionEndReason.BroadcasterDisposed);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
