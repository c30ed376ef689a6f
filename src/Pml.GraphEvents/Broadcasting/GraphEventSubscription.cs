using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Pml.GraphEvents;

/// <summary>
/// One subscriber's view of the broadcast. Frames arrive in broadcast order: first
/// <c>connected</c>, then any loss notice and replayed frames, then live frames. A subscription
/// has a single reader. Dispose it to leave; it also ends when it lags
/// (<see cref="SlowSubscriberPolicy.Disconnect"/>) or when the broadcaster is disposed, and then
/// <see cref="WaitToReadAsync"/> returns <see langword="false"/> once the buffered frames are read.
/// </summary>
public sealed class GraphEventSubscription : IDisposable
{
    private readonly Broadcaster _owner;
    private readonly SubscriberQueue _queue;
    private readonly TimeProvider _timeProvider;

    // The start of the stream, read before the live queue. Written once by Subscribe before the
    // subscription is handed out, then touched only by the single reader.
    private GraphEventFrame? _connected;
    private GraphEventFrame? _resumeLoss;
    private GraphEventFrame[] _replay = [];
    private int _replayIndex;

    // Behind a backplane only: the older part of a resume, fetched from the shared log, which must
    // be read before _replay; and the id up to which live frames are already with the client (it
    // came from a host that was ahead of this one).
    private Task<GraphEventFrame[]>? _gap;
    private long _skipThrough;

    private long _framesLost;
    private int _endReason;

    internal GraphEventSubscription(Broadcaster owner, SubscriberQueue queue, GraphEventKind mask, TimeProvider timeProvider)
    {
        _owner = owner;
        _queue = queue;
        Mask = mask;
        _timeProvider = timeProvider;
        ClientId = Guid.NewGuid().ToString();
    }

    /// <summary>This subscription's id, as sent in its <c>connected</c> frame.</summary>
    public string ClientId { get; }

    /// <summary>Why the subscription ended, or <see cref="SubscriptionEndReason.None"/> while it is live.</summary>
    public SubscriptionEndReason EndReason => (SubscriptionEndReason)Volatile.Read(ref _endReason);

    /// <summary>Events this subscriber is known to have missed (drop-oldest policy and resume gaps).</summary>
    public long FramesLost => Interlocked.Read(ref _framesLost) + _queue.DroppedTotal;

    internal GraphEventKind Mask { get; }

    internal SubscriberQueue Queue => _queue;

    internal Broadcaster Owner => _owner;

    /// <summary>Takes the next frame if one is ready.</summary>
    public bool TryRead([NotNullWhen(true)] out GraphEventFrame? frame)
    {
        if (_connected is not null)
        {
            frame = _connected;
            _connected = null;
            return true;
        }

        if (_resumeLoss is not null)
        {
            frame = _resumeLoss;
            _resumeLoss = null;
            return true;
        }

        if (_gap is not null)
        {
            if (!_gap.IsCompleted)
            {
                frame = null;
                return false;
            }

            TakeGap();
        }

        // The replay is a raw slice of the ring, copied under the broadcaster's lock; the filter
        // is applied here, by the reader, so the pump never waits for it.
        while (_replayIndex < _replay.Length)
        {
            frame = _replay[_replayIndex];
            _replay[_replayIndex++] = null!;
            if (_replayIndex == _replay.Length)
            {
                _replay = [];
                _replayIndex = 0;
            }

            if ((frame.Kind & Mask) != 0)
            {
                return true;
            }
        }

        if (!_queue.TryDequeue(out frame, out var lost))
        {
            return false;
        }

        while (_skipThrough != 0 && frame is not null && frame.Id is { } id)
        {
            if (id > _skipThrough)
            {
                _skipThrough = 0;
                break;
            }

            if (!_queue.TryDequeue(out frame, out lost))
            {
                return false;
            }
        }

        if (frame is null)
        {
            // Encoded here, by this subscriber's reader, because the notice is for it alone.
            frame = SseFrameEncoder.CreateFrame(null, new EventsLostEvent(EventsLostReasons.BufferOverflow, lost, _timeProvider.GetUtcNow()));
        }

        return true;
    }

    /// <summary>
    /// Waits until a frame can be read (<see langword="true"/>) or the subscription has ended and
    /// everything it held was read (<see langword="false"/>). Does not allocate when it waits.
    /// May return <see langword="true"/> and then find nothing to read (a replayed frame the
    /// filter skips): read with <see cref="TryRead"/> in a loop, as <see cref="ReadAllAsync"/> does.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Another wait on this subscription is pending.</exception>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        _connected is not null || _resumeLoss is not null || _replayIndex < _replay.Length
            ? new ValueTask<bool>(true)
            : _gap is not null ? WaitForGapAsync(cancellationToken)
            : _queue.WaitToReadAsync(cancellationToken);

    /// <summary>Reads every frame until the subscription ends or <paramref name="cancellationToken"/> is cancelled.</summary>
    public async IAsyncEnumerable<GraphEventFrame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (TryRead(out var frame))
            {
                yield return frame;
            }
        }
    }

    /// <summary>Leaves the broadcast. Idempotent.</summary>
    public void Dispose() => _owner.Unsubscribe(this, SubscriptionEndReason.Disposed);

    internal void Start(GraphEventFrame connected, GraphEventFrame? resumeLoss, GraphEventFrame[] replay, long lost, Task<GraphEventFrame[]>? gap = null, long skipThrough = 0)
    {
        _connected = connected;
        _resumeLoss = resumeLoss;
        _replay = replay;
        _framesLost = lost;
        _gap = gap;
        _skipThrough = skipThrough;
    }

    private async ValueTask<bool> WaitForGapAsync(CancellationToken cancellationToken)
    {
        // The backplane's fetch never faults (a failure becomes an events_lost frame), so waiting
        // for it is safe; the cancellation only stops this wait, not the fetch.
        await _gap!.WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private void TakeGap()
    {
        var gap = _gap!.GetAwaiter().GetResult();
        _gap = null;
        if (gap.Length == 0)
        {
            return;
        }

        if (gap[0].Event is EventsLostEvent { LostCount: { } count })
        {
            AddLost(count);
        }

        _replay = [.. gap, .. _replay.AsSpan(_replayIndex)];
        _replayIndex = 0;
    }

    private void AddLost(long count) => Interlocked.Add(ref _framesLost, count);

    /// <summary>Marks the end; the first reason wins.</summary>
    internal bool End(SubscriptionEndReason reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, (int)reason, (int)SubscriptionEndReason.None) != (int)SubscriptionEndReason.None)
        {
            return false;
        }

        _queue.Complete();
        return true;
    }
}
