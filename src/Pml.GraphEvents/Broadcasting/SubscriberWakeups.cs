namespace Pml.GraphEvents;

/// <summary>
/// The readers one drain woke: their pending waits, claimed by the pump, completed by a few
/// thread-pool work items that share them out, each running the readers' continuations in turn,
/// instead of one work item per reader. Reused: the last work item to finish returns it to its pool.
/// </summary>
/// <remarks>
/// <para>
/// Why: at 1,000 in-process subscribers, one work item each is 1,000 thread-pool dispatches per
/// event on two cores; a reader's own work (take the frames, wait again) is smaller than its
/// dispatch. And over HTTP each woken stream writer copies its frames and flushes in a few
/// microseconds, which a shared work item runs back to back.
/// </para>
/// <para>
/// Why several work items, sharing one cursor, and not one: so that the readers are woken on every
/// core at once, and so that a reader whose continuation blocks (an in-process subscriber doing slow
/// work inline) holds up only its own work item: the others take the rest of the readers from the
/// cursor. One work item per core is the most that can run at once anyway.
/// </para>
/// <para>
/// Why the readers of a drain are handed off together, once the pump has offered the drain to every
/// buffer, and not in slices as it goes: measured at 1,000 in-process subscribers on two cores,
/// readers woken while the pump was still filling buffers cost more CPU per delivery and a worse
/// tail than readers woken after it (the pump and the readers then compete for the same cores and
/// cache lines).
/// </para>
/// </remarks>
internal sealed class SubscriberWakeups : IThreadPoolWorkItem
{
    private readonly Pool _pool;
    private SubscriberQueue?[] _queues;
    private int _count;
    private int _next;
    private int _running;

    private SubscriberWakeups(Pool pool, int capacity)
    {
        _pool = pool;
        _queues = new SubscriberQueue?[capacity];
    }

    /// <summary>Adds a queue whose wait was claimed (pump only, before <see cref="Dispatch"/>).</summary>
    public void Add(SubscriberQueue queue)
    {
        if (_count == _queues.Length)
        {
            Array.Resize(ref _queues, _queues.Length * 2);
        }

        _queues[_count++] = queue;
    }

    /// <summary>Hands the wake-ups to the thread pool: one work item per core (two at least), at most one per reader.</summary>
    public void Dispatch()
    {
        // Two at least, even on one core: a reader that blocks then holds up none of the others.
        var workers = Math.Min(_count, Math.Max(2, Environment.ProcessorCount));
        _next = 0;
        Volatile.Write(ref _running, workers);
        for (var i = 1; i < workers; i++)
        {
            // Global: any idle worker may start on them at once, while the pump finishes its drain.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        // The last on the pump thread's own queue: that thread takes it as soon as the pump waits
        // again, with no other thread to wake (for a single reader, that is all there is), and
        // any idle worker may still take it first.
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    void IThreadPoolWorkItem.Execute()
    {
        try
        {
            int index;
            while ((index = Interlocked.Increment(ref _next) - 1) < _count)
            {
                var queue = _queues[index]!;
                _queues[index] = null;

                // The reader's continuation runs here, inline (see SubscriberQueue).
                queue.Wake();
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _running) == 0)
            {
                _count = 0;
                _pool.Return(this);
            }
        }
    }

    /// <summary>The pump's spare instances: after the first drains, waking readers allocates nothing.</summary>
    internal sealed class Pool
    {
        private readonly Lock _lock = new();
        private readonly Stack<SubscriberWakeups> _free = new();

        /// <summary>An empty instance with room for <paramref name="capacity"/> readers, or more.</summary>
        public SubscriberWakeups Rent(int capacity)
        {
            lock (_lock)
            {
                if (_free.TryPop(out var wakeups))
                {
                    return wakeups;
                }
            }

            return new SubscriberWakeups(this, Math.Max(4, capacity));
        }

        public void Return(SubscriberWakeups wakeups)
        {
            lock (_lock)
            {
                _free.Push(wakeups);
            }
        }
    }
}
