using System.Threading.Tasks.Sources;

namespace Pml.GraphEvents;

/// <summary>
/// One subscriber's bounded buffer: a single producer (the pump) and a single consumer (the
/// subscriber). A stock bounded channel costs about 720 bytes idle and supports many readers and
/// writers we never have; this one keeps an idle subscription small (no array until the first
/// frame, then one that grows to the capacity) and reuses one <see cref="IValueTaskSource{TResult}"/>
/// for every wait, so waiting allocates nothing. It also decides when the subscription's
/// <see cref="GraphEventSubscription.Completion"/> completes: once it is completed, empty, and the
/// reader has read the frames of the stream's start that it holds outside this queue.
/// </summary>
/// <remarks>
/// A pending wait is completed in two steps: whoever ends it (the pump with new frames, the end of
/// the queue, a cancellation) claims it under the gate and records how it ends, then one thread-pool
/// work item completes it, and the reader's continuation runs right there, on that work item. The
/// pump's claims of a drain are completed together by a few <see cref="SubscriberWakeups"/> work
/// items, so waking N readers costs a few work items, not N; the other ends, which are rare, queue
/// this queue itself as the work item. Either way the continuation never runs on the pump, nor on a
/// thread that disposed a subscription or cancelled a token.
/// </remarks>
internal sealed class SubscriberQueue : IValueTaskSource<bool>, IThreadPoolWorkItem
{
    private const int InitialArrayLength = 4;

    // Keeps count, lost and waiter consistent. Both sides hold it for a few instructions and there
    // is at most one thread on each side, so it is nearly always free: a spinning gate, not a Lock,
    // whose cost (two interlocked operations and the thread's id, three times per frame per
    // subscriber) was a quarter of the fan-out's CPU at 1,000 subscribers. See SpinGate.
    private SpinGate _gate;
    private readonly int _capacity;
    private readonly long _capacityBytes;
    private readonly bool _dropOldest;
    private GraphEventFrame?[]? _items;
    private int _head;
    private int _count;
    private long _bytes;
    private long _lost;
    private long _droppedTotal;
    private bool _completed;

    // The reader holds frames of its own before this queue's (connected, a loss notice, the
    // replay): until it has read them, an ended, empty queue is not the end of the subscription.
    private bool _startHeld = true;

    // Created only when someone asks for Completion: null, then either a TaskCompletionSource (asked
    // first) or Task.CompletedTask (ended first). An idle subscription must not carry a Task.
    private object? _completion;

    private ManualResetValueTaskSourceCore<bool> _waiter;
    private bool _hasWaiter;

    // How the claimed wait ends: written under the gate by the claim, read by the one wake that
    // follows it (published to that work item by the thread pool's queue).
    private WaitOutcome _outcome;
    private CancellationToken _waitToken;
    private CancellationTokenRegistration _waitRegistration;

    public SubscriberQueue(int capacity, long capacityBytes, bool dropOldest)
    {
        _capacity = capacity;
        _capacityBytes = capacityBytes;
        _dropOldest = dropOldest;

        // Continuations run inline in SetResult, which is only ever called from a work item of the
        // thread pool that exists to run them (see Wake): the pump, which only claims waits, never
        // runs one, and a second hop through the thread pool per wake-up would buy nothing.
        _waiter.RunContinuationsAsynchronously = false;
    }

    private enum WaitOutcome : byte
    {
        Ready,
        Ended,
        Cancelled,
    }

    /// <summary>Frames dropped by the drop-oldest policy since the queue was created.</summary>
    public long DroppedTotal
    {
        get
        {
            using (_gate.EnterScope())
            {
                return _droppedTotal;
            }
        }
    }

    /// <summary>What the reader can take now: the frames held, and a loss notice when frames were dropped since the last read.</summary>
    public int Count
    {
        get
        {
            using (_gate.EnterScope())
            {
                return _count + (_lost > 0 ? 1 : 0);
            }
        }
    }

    /// <summary>Bytes of the frames held now.</summary>
    public long Bytes
    {
        get
        {
            using (_gate.EnterScope())
            {
                return _bytes;
            }
        }
    }

    /// <summary>
    /// Completes, without a fault, once the queue was completed, everything it held was read, and
    /// the reader said with <see cref="ReleaseStart"/> that it holds nothing of its own.
    /// </summary>
    public Task Completion
    {
        get
        {
            var current = Volatile.Read(ref _completion);
            if (current is null)
            {
                // Lost race: someone else created it, or the end came first and left Task.CompletedTask.
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                current = Interlocked.CompareExchange(ref _completion, created, null) ?? created;
            }

            return current as Task ?? ((TaskCompletionSource)current).Task;
        }
    }

    /// <summary>
    /// Called by the pump only: offers the frames of a slice of a drain (<paramref name="frameCount"/>
    /// from <paramref name="start"/>) that <paramref name="mask"/> takes, in order, under one gate.
    /// The buffer is full when it holds its capacity in frames, or when a frame would take it past
    /// its capacity in bytes; then that frame is refused and so are the
    /// ones after it (<see cref="EnqueueResult.Full"/>: the pump ends this subscription), or,
    /// dropping oldest, as many of the oldest frames as it takes are dropped (counted in
    /// <paramref name="dropped"/>). A frame always fits an empty buffer, so that one large event
    /// never ends a subscriber that has read everything. <paramref name="delivered"/> counts the
    /// frames taken. When <paramref name="wake"/> is <see langword="true"/>, this call claimed the
    /// reader's pending wait, and the caller must have <see cref="Wake"/> called once, on a thread
    /// where the reader's continuation may run.
    /// </summary>
    public EnqueueResult TryEnqueueRange(List<GraphEventFrame> frames, int start, int frameCount, GraphEventKind mask, ref long delivered, ref long dropped, out bool wake)
    {
        var result = EnqueueResult.Enqueued;
        var taken = 0;
        wake = false;
        using (_gate.EnterScope())
        {
            if (_completed)
            {
                return EnqueueResult.Closed;
            }

            for (var i = start; i < start + frameCount; i++)
            {
                var frame = frames[i];
                if ((frame.Kind & mask) == 0)
                {
                    continue;
                }

                var length = frame.Length;
                var count = _count;
                if (count == _capacity || _bytes + length > _capacityBytes)
                {
                    if (!_dropOldest)
                    {
                        if (count > 0)
                        {
                            result = EnqueueResult.Full;
                            break;
                        }
                    }
                    else
                    {
                        var droppedNow = 0;
                        while (count > 0 && (count == _capacity || _bytes + length > _capacityBytes))
                        {
                            _bytes -= _items![_head]!.Length;
                            _items[_head] = null;
                            _head = (_head + 1) % _items.Length;
                            count--;
                            droppedNow++;
                        }

                        _lost += droppedNow;
                        _droppedTotal += droppedNow;
                        dropped += droppedNow;
                    }
                }

                EnsureRoom(count);
                _items![(_head + count) % _items.Length] = frame;
                _bytes += length;

                // One store, after the loss is recorded, and never 0: the reader looks at the count
                // without the gate (LooksEmpty), and must never see drops without their loss, nor
                // an empty buffer in the middle of dropping the oldest frames to make room.
                Volatile.Write(ref _count, count + 1);
                taken++;
            }

            if (taken > 0 && _hasWaiter)
            {
                _hasWaiter = false;
                _outcome = WaitOutcome.Ready;
                wake = true;
            }
        }

        delivered += taken;
        return result;
    }

    /// <summary>
    /// Takes the next frame; or, when frames were dropped since the last read, reports that count
    /// first (with <paramref name="frame"/> <see langword="null"/>), atomically with the drops, so
    /// the notice always comes before the first frame that follows the gap.
    /// </summary>
    public bool TryDequeue(out GraphEventFrame? frame, out long lost)
    {
        if (LooksEmpty())
        {
            frame = null;
            lost = 0;
            return false;
        }

        bool drained;
        using (_gate.EnterScope())
        {
            if (_lost > 0)
            {
                lost = _lost;
                _lost = 0;
                frame = null;
            }
            else
            {
                lost = 0;
                if (_count == 0)
                {
                    frame = null;
                    return false;
                }

                frame = TakeHead();
            }

            drained = IsDrained();
        }

        if (drained)
        {
            SignalCompletion();
        }

        return true;
    }

    /// <summary>
    /// Takes frames from the head under one gate, into <paramref name="into"/>, while the bytes
    /// taken stay below <paramref name="maxBytes"/> (so the last one may cross it, as a reader
    /// taking them one at a time while under budget would); returns how many. When frames were
    /// dropped since the last read, takes none and reports that count in <paramref name="lost"/>
    /// instead: the notice comes first, as in <see cref="TryDequeue"/>.
    /// </summary>
    public int TryDequeueMany(Span<GraphEventFrame?> into, long maxBytes, out long lost)
    {
        if (LooksEmpty())
        {
            lost = 0;
            return 0;
        }

        var taken = 0;
        long bytes = 0;
        bool drained;
        using (_gate.EnterScope())
        {
            lost = _lost;
            _lost = 0;
            if (lost == 0)
            {
                while (_count > 0 && taken < into.Length && bytes < maxBytes)
                {
                    var frame = TakeHead();
                    into[taken++] = frame;
                    bytes += frame.Length;
                }
            }

            drained = IsDrained();
        }

        if (drained)
        {
            SignalCompletion();
        }

        return taken;
    }

    /// <summary>
    /// Drops the frames at the head whose id is at most <paramref name="lastId"/> (a resuming client
    /// already has them), stopping at a loss notice or a frame without an id, which are read as they
    /// are. Returns whether something is left to read; <paramref name="passed"/> is
    /// <see langword="true"/> when a frame after <paramref name="lastId"/> was found, so nothing
    /// more will need dropping.
    /// </summary>
    public bool DiscardThrough(long lastId, out bool passed)
    {
        passed = false;
        bool drained;
        using (_gate.EnterScope())
        {
            if (_lost > 0)
            {
                return true;
            }

            while (_count > 0)
            {
                var id = _items![_head]!.Offset;
                if (id == 0)
                {
                    return true;
                }

                if (id > lastId)
                {
                    passed = true;
                    return true;
                }

                TakeHead();
            }

            drained = IsDrained();
        }

        if (drained)
        {
            SignalCompletion();
        }

        return false;
    }

    /// <summary>The reader has read every frame it held outside the queue; from now on the queue alone decides the end.</summary>
    public void ReleaseStart()
    {
        bool drained;
        using (_gate.EnterScope())
        {
            _startHeld = false;
            drained = IsDrained();
        }

        if (drained)
        {
            SignalCompletion();
        }
    }

    /// <summary>Ends the queue; the consumer still reads what it holds, then sees the end.</summary>
    public bool Complete()
    {
        bool wake;
        bool drained;
        using (_gate.EnterScope())
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            wake = _hasWaiter;
            _hasWaiter = false;
            _outcome = _count > 0 || _lost > 0 ? WaitOutcome.Ready : WaitOutcome.Ended;
            drained = IsDrained();
        }

        if (wake)
        {
            // Whoever ends a subscription (a disposal on any thread, the pump for a lagging one)
            // must not run its reader's continuation: a work item of its own does. Rare, so one each.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        if (drained)
        {
            SignalCompletion();
        }

        return true;
    }

    /// <summary>Completes with <see langword="true"/> when there is something to read, <see langword="false"/> at the end.</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        short version;
        using (_gate.EnterScope())
        {
            if (_count > 0 || _lost > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            if (_hasWaiter)
            {
                throw new InvalidOperationException("A subscription has a single reader: another WaitToReadAsync is already pending.");
            }

            _waiter.Reset();
            _hasWaiter = true;
            _waitToken = cancellationToken;
            version = _waiter.Version;
        }

        if (cancellationToken.CanBeCanceled)
        {
            // Registered once the gate is left: a token cancelled meanwhile runs CancelWait at once,
            // on this thread, and CancelWait enters the gate, which is not reentrant. GetResult,
            // which unregisters it, cannot run before the field is set: the awaiter only asks for
            // the result, or registers its continuation, once this method has returned.
            _waitRegistration = cancellationToken.UnsafeRegister(
                static (state, token) => ((SubscriberQueue)state!).CancelWait(token), this);
        }

        return new ValueTask<bool>(this, version);
    }

    private void CancelWait(CancellationToken token)
    {
        using (_gate.EnterScope())
        {
            // A registration of an earlier wait may fire late; it may only cancel a wait that
            // uses the same (now cancelled) token.
            if (!_hasWaiter || _waitToken != token)
            {
                return;
            }

            _hasWaiter = false;
            _outcome = WaitOutcome.Cancelled;
        }

        // Not on the thread that cancelled the token (a timer, a request abort): on a work item.
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>
    /// Completes the wait that was claimed for this wake-up, running the reader's continuation on
    /// the calling thread: call it once per claim, from a thread-pool work item that exists for it.
    /// </summary>
    public void Wake()
    {
        switch (_outcome)
        {
            case WaitOutcome.Ready:
                _waiter.SetResult(true);
                break;
            case WaitOutcome.Ended:
                _waiter.SetResult(false);
                break;
            default:
                // The token is the claimed wait's: a new wait cannot begin before this one completes.
                _waiter.SetException(new OperationCanceledException(_waitToken));
                break;
        }
    }

    void IThreadPoolWorkItem.Execute() => Wake();

    /// <summary>
    /// Reader only, without the gate: whether there is nothing to take. A reader asks after every
    /// batch it read and nearly always finds nothing, so that answer costs no gate. Only the reader
    /// empties the buffer and clears the loss count (the pump's count is never 0, and it records a
    /// loss before the count that follows it), so after a wait that said there is something, this
    /// never says there is nothing; a frame the pump is adding meanwhile may be missed, and is found
    /// by the wait that follows, which looks under the gate. Taking nothing changes nothing, so no
    /// end needs signalling here.
    /// </summary>
    private bool LooksEmpty() => Volatile.Read(ref _count) == 0 && Volatile.Read(ref _lost) == 0;

    // Under the gate.
    private GraphEventFrame TakeHead()
    {
        var frame = _items![_head]!;
        _items[_head] = null;
        _head = (_head + 1) % _items.Length;
        _count--;
        _bytes -= frame.Length;
        return frame;
    }

    // Under the gate.
    private bool IsDrained() => _completed && _count == 0 && _lost == 0 && !_startHeld;

    private void SignalCompletion()
    {
        // Outside the gate, and idempotent: whichever of the end and the last read comes second
        // gets here, and a Completion asked for later sees Task.CompletedTask.
        if (Interlocked.CompareExchange(ref _completion, Task.CompletedTask, null) is TaskCompletionSource completion)
        {
            completion.TrySetResult();
        }
    }

    // Under the gate: room for one more frame after the count held.
    private void EnsureRoom(int count)
    {
        if (_items is null)
        {
            _items = new GraphEventFrame?[Math.Min(InitialArrayLength, _capacity)];
            return;
        }

        if (count < _items.Length)
        {
            return;
        }

        var grown = new GraphEventFrame?[(int)Math.Min((long)_items.Length * 2, _capacity)];
        for (var i = 0; i < count; i++)
        {
            grown[i] = _items[(_head + i) % _items.Length];
        }

        _items = grown;
        _head = 0;
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        _waitRegistration.Unregister();
        _waitRegistration = default;
        return _waiter.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _waiter.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _waiter.OnCompleted(continuation, state, token, flags);
}
