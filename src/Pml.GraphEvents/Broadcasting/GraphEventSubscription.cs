using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace Pml.GraphEvents;

/// <summary>
/// One subscriber's view of the broadcast, read as a <see cref="ChannelReader{T}"/>: frames arrive
/// in broadcast order, first <c>connected</c>, then any loss notice and replayed frames, then live
/// frames. A subscription has a single reader. Dispose it to leave; it also ends when it lags
/// (<see cref="SlowSubscriberPolicy.Disconnect"/>) or when the broadcaster is disposed. Whatever
/// ended it, the frames it held are still read, then <see cref="WaitToReadAsync"/> returns
/// <see langword="false"/>, <see cref="ChannelReader{T}.ReadAsync"/> throws
/// <see cref="ChannelClosedException"/> and <see cref="Completion"/> completes; <see cref="EndReason"/> says why.
/// </summary>
/// <remarks>
/// As for any channel reader, <see cref="WaitToReadAsync"/> returning <see langword="true"/> means
/// that the next <see cref="TryRead"/> returns a frame (with one reader: this one).
/// <see cref="WaitToReadAsync"/> and <see cref="TryRead"/> never allocate, except to make a loss
/// notice; <see cref="ChannelReader{T}.ReadAsync"/> and <see cref="ChannelReader{T}.ReadAllAsync"/>
/// are the base class's, built on those two, and allocate when they have to wait.
/// </remarks>
public sealed class GraphEventSubscription : ChannelReader<GraphEventFrame>, IDisposable
{
    private readonly Broadcaster _owner;
    private readonly SubscriberQueue _queue;

    // The start of the stream, read before the live queue. Written once by Subscribe before the
    // subscription is handed out, then touched only by the single reader.
    private GraphEventFrame? _connected;
    private GraphEventFrame? _resumeLoss;
    private GraphEventFrame[] _replay = [];
    private int _replayIndex;

    // Set by the reader once it has read the start: from then on, the queue alone decides the end.
    private bool _startRead;

    // A resume older than the ring: its older part is read from the deeper source (the durable log
    // or a backplane's stream) a page at a time, each page read before the next is fetched, and
    // the ring's slice (_tail) after the last page. Touched only by the single reader after Start.
    private IReplaySource? _gapSource;
    private Task<ReplayPage>? _gap;
    private long _gapAfter;
    private long _gapThrough;
    private GraphEventFrame[]? _tail;

    // Behind a backplane only: the offset up to which live frames are already with the client (it
    // came from a host that was ahead of this one).
    private long _skipThrough;

    private long _framesLost;
    private int _endReason;

    internal GraphEventSubscription(Broadcaster owner, SubscriberQueue queue, GraphEventKind mask)
    {
        _owner = owner;
        _queue = queue;
        Mask = mask;
        ClientId = Guid.NewGuid().ToString();
    }

    private enum StartState
    {
        Ready,
        Fetching,
        Over,
    }

    /// <summary>This subscription's id, as sent in its <c>connected</c> frame.</summary>
    public string ClientId { get; }

    /// <summary>Why the subscription ended, or <see cref="SubscriptionEndReason.None"/> while it is live.</summary>
    public SubscriptionEndReason EndReason => (SubscriptionEndReason)Volatile.Read(ref _endReason);

    /// <summary>Events this subscriber is known to have missed (drop-oldest policy and resume gaps).</summary>
    public long FramesLost => Interlocked.Read(ref _framesLost) + _queue.DroppedTotal;

    /// <summary>
    /// Completes (never faults) when the subscription has ended, for whatever reason, and every
    /// frame it held was read. A subscription that ended and is never read again never completes,
    /// as with any channel: read it to the end, or stop reading and dispose it.
    /// </summary>
    public override Task Completion => _queue.Completion;

    /// <summary>Always <see langword="true"/>: <see cref="Count"/> is supported.</summary>
    public override bool CanCount => true;

    /// <summary>
    /// Frames that <see cref="TryRead"/> can take now without waiting: the frames of the stream's
    /// start not read yet (<c>connected</c>, a loss notice, replayed frames the filter keeps), the
    /// frames in the subscriber's buffer, and a loss notice when the drop-oldest policy dropped
    /// frames since the last read. Exact when read by the reader; from another thread, a value that
    /// was true a moment ago. Behind a backplane, while the older part of a resume is being fetched
    /// nothing after the loss notice can be read, so nothing after it is counted; and live frames a
    /// resuming client already had from another host are counted until the read that skips them.
    /// </summary>
    public override int Count
    {
        get
        {
            var count = (_connected is null ? 0 : 1) + (_resumeLoss is null ? 0 : 1);
            if (_gap is { IsCompleted: false })
            {
                return count;
            }

            // Read in this order, and bounded, because the reader may be moving through them.
            var replay = Volatile.Read(ref _replay);
            var index = Volatile.Read(ref _replayIndex);
            for (var i = index; i < replay.Length; i++)
            {
                if (replay[i] is { } frame && (frame.Kind & Mask) != 0)
                {
                    count++;
                }
            }

            return count + (Volatile.Read(ref _tail)?.Length ?? 0) + _queue.Count;
        }
    }

    internal GraphEventKind Mask { get; }

    internal SubscriberQueue Queue => _queue;

    /// <summary>The instruments the broadcaster reports to, for a writer that records delivery.</summary>
    internal GraphEventsMetrics Metrics => _owner.Metrics;

    /// <summary>The clock of the frames' dispatch timestamps.</summary>
    internal TimeProvider TimeProvider => _owner.TimeProvider;

    /// <summary>Takes the next frame if one is ready.</summary>
    public override bool TryRead([MaybeNullWhen(false)] out GraphEventFrame item)
    {
        if (!_startRead)
        {
            var start = PrepareStart();
            if (start == StartState.Ready)
            {
                item = TakeStart();

                // So that Completion completes with the last frame read, not at the next call.
                PrepareStart();
                return true;
            }

            if (start == StartState.Fetching)
            {
                item = null;
                return false;
            }
        }

        if (_skipThrough != 0)
        {
            if (!_queue.DiscardThrough(_skipThrough, out var passed))
            {
                item = null;
                return false;
            }

            if (passed)
            {
                _skipThrough = 0;
            }
        }

        if (!_queue.TryDequeue(out var frame, out var lost))
        {
            item = null;
            return false;
        }

        // Encoded here, by this subscriber's reader, because the notice is for it alone.
        item = frame ?? GraphEventFrame.Create(new EventsLostEvent(EventsLostReasons.BufferOverflow, lost, _owner.TimeProvider.GetUtcNow()));
        return true;
    }

    /// <summary>
    /// Reader only: takes the frames that are ready, up to <paramref name="into"/>'s length and
    /// while the bytes taken stay below <paramref name="maxBytes"/>, as <see cref="TryRead"/> would
    /// one at a time, in the same order; returns how many. Live frames are taken under one lock
    /// of the buffer, not one per frame (a stream writer's batch); the start of the stream, a
    /// loss notice and a resume's skipped frames are taken one at a time as by <see cref="TryRead"/>.
    /// </summary>
    internal int TryReadMany(Span<GraphEventFrame?> into, long maxBytes)
    {
        if (into.IsEmpty || maxBytes <= 0)
        {
            return 0;
        }

        if (!_startRead || _skipThrough != 0)
        {
            if (!TryRead(out var frame))
            {
                return 0;
            }

            into[0] = frame;
            return 1;
        }

        var taken = _queue.TryDequeueMany(into, maxBytes, out var lost);
        if (lost > 0)
        {
            into[0] = GraphEventFrame.Create(new EventsLostEvent(EventsLostReasons.BufferOverflow, lost, _owner.TimeProvider.GetUtcNow()));
            return 1;
        }

        return taken;
    }

    /// <summary>
    /// Waits until a frame can be read (<see langword="true"/>: the next <see cref="TryRead"/>
    /// returns one) or the subscription has ended and everything it held was read
    /// (<see langword="false"/>). Does not allocate when it waits, except behind a backplane while
    /// a resume is being fetched.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Another wait on this subscription is pending.</exception>
    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (!_startRead)
        {
            switch (PrepareStart())
            {
                case StartState.Ready:
                    return new ValueTask<bool>(true);
                case StartState.Fetching:
                    return WaitForGapAsync(cancellationToken);
            }
        }

        return _skipThrough == 0 ? _queue.WaitToReadAsync(cancellationToken) : WaitPastSkippedAsync(cancellationToken);
    }

    /// <summary>Leaves the broadcast. Idempotent. The frames the subscription held can still be read.</summary>
    public void Dispose() => _owner.Unsubscribe(this, SubscriptionEndReason.Disposed);

    internal void Start(GraphEventFrame connected, GraphEventFrame? resumeLoss, GraphEventFrame[] replay, long lost, IReplaySource? gapSource = null, long gapAfter = 0, long gapThrough = 0, long skipThrough = 0)
    {
        _connected = connected;
        _resumeLoss = resumeLoss;
        _replay = replay;
        _framesLost = lost;
        _skipThrough = skipThrough;
        if (gapSource is not null && gapAfter < gapThrough)
        {
            // The first page is fetched at once, while the client reads its connected frame.
            _gapSource = gapSource;
            _gapAfter = gapAfter;
            _gapThrough = gapThrough;
            _tail = replay;
            _replay = [];
            _gap = gapSource.FetchAsync(gapAfter, gapThrough, Mask);
        }
    }

    /// <summary>
    /// Reader only. Whether a frame of the stream's start is next: moves past replayed frames the
    /// filter skips (the replay is a raw slice of the ring, copied under the broadcaster's lock, and
    /// filtered here so that the pump never waits for it), takes in each fetched page of a gap and
    /// asks for the next, and once the start is over tells the queue, so that the end of the
    /// subscription can complete.
    /// </summary>
    private StartState PrepareStart()
    {
        if (_connected is not null || _resumeLoss is not null)
        {
            return StartState.Ready;
        }

        while (true)
        {
            if (_gap is not null)
            {
                if (!_gap.IsCompleted)
                {
                    return StartState.Fetching;
                }

                TakeGap();
            }

            while (_replayIndex < _replay.Length)
            {
                if ((_replay[_replayIndex].Kind & Mask) != 0)
                {
                    return StartState.Ready;
                }

                _replay[_replayIndex++] = null!;
            }

            _replay = [];
            _replayIndex = 0;
            if (_gapSource is not null)
            {
                // The page is read: fetch the next one only now, so one page at a time is held.
                _gap = _gapSource.FetchAsync(_gapAfter, _gapThrough, Mask);
                continue;
            }

            if (Volatile.Read(ref _tail) is { } tail)
            {
                _replay = tail;
                Volatile.Write(ref _tail, null);
                continue;
            }

            break;
        }

        _startRead = true;
        _queue.ReleaseStart();
        return StartState.Over;
    }

    /// <summary>Reader only, after <see cref="PrepareStart"/> said <see cref="StartState.Ready"/>.</summary>
    private GraphEventFrame TakeStart()
    {
        if (_connected is { } connected)
        {
            _connected = null;
            return connected;
        }

        if (_resumeLoss is { } loss)
        {
            _resumeLoss = null;
            return loss;
        }

        var frame = _replay[_replayIndex];
        _replay[_replayIndex++] = null!;
        return frame;
    }

    private async ValueTask<bool> WaitForGapAsync(CancellationToken cancellationToken)
    {
        // A source's fetch never faults (a failure becomes an events_lost frame), so waiting for
        // it is safe; the cancellation only stops this wait, not the fetch.
        await _gap!.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await WaitToReadAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<bool> WaitPastSkippedAsync(CancellationToken cancellationToken)
    {
        // Frames the client already has are dropped here, so that true still means a frame to read.
        while (await _queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_queue.DiscardThrough(_skipThrough, out var passed))
            {
                if (passed)
                {
                    _skipThrough = 0;
                }

                return true;
            }
        }

        return false;
    }

    private void TakeGap()
    {
        var page = _gap!.GetAwaiter().GetResult();
        _gap = null;
        if (page.NextAfter >= _gapThrough || page.NextAfter <= _gapAfter)
        {
            // Read to the end (or a source that did not move, which must not loop): the ring's part is next.
            _gapSource = null;
        }
        else
        {
            _gapAfter = page.NextAfter;
        }

        if (page.Frames.Length > 0 && page.Frames[0].Event is EventsLostEvent { LostCount: { } count })
        {
            AddLost(count);
        }

        _replay = page.Frames;
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
