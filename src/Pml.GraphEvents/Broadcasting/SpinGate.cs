using System.Diagnostics.CodeAnalysis;

namespace Pml.GraphEvents;

/// <summary>
/// A mutual-exclusion flag for critical sections of a few instructions between two threads: the
/// pump and one subscriber's reader (and, rarely, a thread that reads a count or ends the
/// subscription). Entering costs one interlocked exchange and leaving one plain store, where
/// <see cref="Lock"/> costs two interlocked operations and a look-up of the thread's id; on the
/// delivery path that is taken three times per frame per subscriber, which at 1,000 subscribers
/// was a quarter of the fan-out's CPU. Not reentrant, no owner check, no waiting queue: a thread
/// that finds it held spins, yielding, until the holder leaves a few instructions later.
/// </summary>
internal struct SpinGate
{
    private int _held;

    /// <summary>Enters; dispose the scope to leave.</summary>
    [UnscopedRef]
    public Scope EnterScope()
    {
        if (Interlocked.Exchange(ref _held, 1) != 0)
        {
            EnterContended();
        }

        return new Scope(ref _held);
    }

    private void EnterContended()
    {
        // No Sleep(1): a holder that was preempted comes back within a time slice, and a
        // millisecond's sleep would be a millisecond of latency for every frame behind it.
        var spinner = default(SpinWait);
        do
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        while (Volatile.Read(ref _held) != 0 || Interlocked.Exchange(ref _held, 1) != 0);
    }

    /// <summary>Leaves the gate when disposed.</summary>
    public readonly ref struct Scope
    {
        private readonly ref int _held;

        internal Scope(ref int held) => _held = ref held;

        /// <summary>Leaves: a release store, so what was written inside is seen by the next to enter.</summary>
        public void Dispose() => Volatile.Write(ref _held, 0);
    }
}
