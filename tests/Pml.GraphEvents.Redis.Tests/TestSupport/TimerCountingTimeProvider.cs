namespace Pml.GraphEvents.Redis.Tests.TestSupport;

/// <summary>
/// The system clock, counting the timers created with one due time that are still alive (neither
/// fired nor disposed): Task.Delay and Task.WaitAsync with a TimeProvider create one each and
/// dispose it when they complete or are cancelled, so a count that grows is a leak.
/// </summary>
internal sealed class TimerCountingTimeProvider(TimeSpan watchedDueTime) : TimeProvider
{
    private int _alive;

    public int Alive => Volatile.Read(ref _alive);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != watchedDueTime)
        {
            return System.CreateTimer(callback, state, dueTime, period);
        }

        Interlocked.Increment(ref _alive);
        Counted? counted = null;
        var inner = System.CreateTimer(
            s =>
            {
                counted!.Release();
                callback(s);
            },
            state,
            dueTime,
            period);
        counted = new Counted(this, inner);
        return counted;
    }

    private sealed class Counted(TimerCountingTimeProvider owner, ITimer inner) : ITimer
    {
        private int _released;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Decrement(ref owner._alive);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            Release();
            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Release();
            return inner.DisposeAsync();
        }
    }
}
