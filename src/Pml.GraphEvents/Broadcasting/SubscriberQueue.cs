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
internal sealed class SubscriberQueue : IValueTaskSource<bool>
{
    private const int InitialArrayLength = 4;

    // A plain lock: both sides hold it for a few instructions and there is at most one thread on
    // each side, so it is nearly always uncontended, and it keeps count, lost and waiter consistent.
    private readonly Lock _lock = new();
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
    private CancellationToken _waitToken;
    private CancellationTokenRegistration _waitRegistration;

    public SubscriberQueue(int capacity, long capacityBytes, bool dropOldest)
    {
        _capacity = capacity;
        _capacityBytes = capacityBytes;
        _dropOldest = dropOldest;

        // The pump must never run a subscriber's continuation inline: that continuation may write
        // to a socket, and every other subscriber would wait for it.
        _waiter.RunContinuationsAsynchronously = true;
    }

    /// <summary>Frames dropped by the drop-oldest policy since the queue was created.</summary>
    public long DroppedTotal
    {
        get
        {
            lock (_lock)
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
            lock (_lock)
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
            lock (_lock)
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
    /// Called by the pump only. The buffer is full when it holds its capacity in frames, or when
    /// <paramref name="frame"/> would take it past its capacity in bytes; then the frame is
    /// refused (<see cref="EnqueueResult.Full"/>) or, dropping oldest, as many of the oldest frames
    /// as it takes are dropped, <paramref name="dropped"/> of them. A frame always fits an empty
    /// buffer, so that one large event never ends a subscriber that has read everything.
    /// </summary>
    public EnqueueResult TryEnqueue(GraphEventFrame frame, out int dropped)
    {
        var result = EnqueueResult.Enqueued;
        var length = frame.Length;
        dropped = 0;
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return EnqueueResult.Closed;
            }

            if (_count == _capacity || _bytes + length > _capacityBytes)
            {
                if (!_dropOldest)
                {
                    if (_count > 0)
                    {
                        return EnqueueResult.Full;
                    }
                }
                else
                {
                    while (_count > 0 && (_count == _capacity || _bytes + length > _capacityBytes))
                    {
                        _bytes -= _items![_head]!.Length;
                        _items[_head] = null;
                        _head = (_head + 1) % _items.Length;
                        _count--;
                        dropped++;
                    }

                    _lost += dropped;
                    _droppedTotal += dropped;
                    result = dropped > 0 ? EnqueueResult.DroppedOldest : EnqueueResult.Enqueued;
                }
            }

            EnsureRoom();
            _items![(_head + _count) % _items.Length] = frame;
            _count++;
            _bytes += length;
            wake = _hasWaiter;
            _hasWaiter = false;
        }

        if (wake)
        {
            Wake(true);
        }

        return result;
    }

    /// <summary>
    /// Takes the next frame; or, when frames were dropped since the last read, reports that count
    /// first (with <paramref name="frame"/> <see langword="null"/>), atomically with the drops, so
    /// the notice always comes before the first frame that follows the gap.
    /// </summary>
    public bool TryDequeue(out GraphEventFrame? frame, out long lost)
    {
        bool drained;
        lock (_lock)
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
        lock (_lock)
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
        lock (_lock)
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
        bool hasItems;
        bool drained;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            wake = _hasWaiter;
            _hasWaiter = false;
            hasItems = _count > 0 || _lost > 0;
            drained = IsDrained();
        }

        if (wake)
        {
            Wake(hasItems);
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

        lock (_lock)
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
            if (cancellationToken.CanBeCanceled)
            {
                // Registered under the lock so that GetResult, which unregisters it, can never
                // run before the field is set.
                _waitRegistration = cancellationToken.UnsafeRegister(
                    static (state, token) => ((SubscriberQueue)state!).CancelWait(token), this);
            }

            return new ValueTask<bool>(this, _waiter.Version);
        }
    }

    private void CancelWait(CancellationToken token)
    {
        lock (_lock)
        {
            // A registration of an earlier wait may fire late; it may only cancel a wait that
            // uses the same (now cancelled) token.
            if (!_hasWaiter || _waitToken != token)
            {
                return;
            }

            _hasWaiter = false;
        }

        _waiter.SetException(new OperationCanceledException(token));
    }

    private void Wake(bool result) => _waiter.SetResult(result);

    // Under the lock.
    private GraphEventFrame TakeHead()
    {
        var frame = _items![_head]!;
        _items[_head] = null;
        _head = (_head + 1) % _items.Length;
        _count--;
        _bytes -= frame.Length;
        return frame;
    }

    // Under the lock.
    private bool IsDrained() => _completed && _count == 0 && _lost == 0 && !_startHeld;

    private void SignalCompletion()
    {
        // Outside the lock, and idempotent: whichever of the end and the last read comes second
        // gets here, and a Completion asked for later sees Task.CompletedTask.
        if (Interlocked.CompareExchange(ref _completion, Task.CompletedTask, null) is TaskCompletionSource completion)
        {
            completion.TrySetResult();
        }
    }

    private void EnsureRoom()
    {
        if (_items is null)
        {
            _items = new GraphEventFrame?[Math.Min(InitialArrayLength, _capacity)];
            return;
        }

        if (_count < _items.Length)
        {
            return;
        }

        var grown = new GraphEventFrame?[(int)Math.Min((long)_items.Length * 2, _capacity)];
        for (var i = 0; i < _count; i++)
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
