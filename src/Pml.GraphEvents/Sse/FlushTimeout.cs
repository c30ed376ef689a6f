namespace Pml.GraphEvents;

/// <summary>
/// The write timeout of one stream: one cancellation source, armed around each flush only, with
/// the caller's token chained into it, so that a single token serves both the flush and the wait
/// for the next frame, without a timer or a linked source per write.
/// </summary>
internal sealed class FlushTimeout : IDisposable
{
    private readonly TimeProvider _timeProvider;
    private readonly CancellationToken _caller;
    private CancellationTokenSource _source;
    private CancellationTokenRegistration _callerRegistration;

    public FlushTimeout(TimeProvider timeProvider, CancellationToken caller)
    {
        _timeProvider = timeProvider;
        _caller = caller;
        (_source, _callerRegistration) = Create();
    }

    /// <summary>Cancelled when an armed flush runs out of time, or when the caller's token is.</summary>
    public CancellationToken Token => _source.Token;

    public void Arm(TimeSpan timeout) => _source.CancelAfter(timeout);

    /// <summary>Disarms after a flush that completed; returns the token for what follows.</summary>
    public CancellationToken Disarm()
    {
        // Changing a timer does not recall its callback once it is queued. On a busy thread pool a
        // timer that came due while the flush was completing runs late, after this flush returned,
        // and would then cancel the next wait: a stream whose flush completed would end as timed
        // out. TryReset refuses exactly then (a timer callback queued, or the source cancelled).
        // The flush completed, so it was in time; a cancelled source cannot be reused: take a new
        // one. A caller's cancellation is kept: the next wait ends the stream as cancelled. (With
        // a clock other than the system's TryReset always refuses: a test clock costs a new
        // source per flush, the system clock none.)
        if (!_source.TryReset() && !_caller.IsCancellationRequested)
        {
            _callerRegistration.Dispose();
            _source.Dispose();
            (_source, _callerRegistration) = Create();
        }

        return _source.Token;
    }

    public void Dispose()
    {
        _callerRegistration.Dispose();
        _source.Dispose();
    }

    private (CancellationTokenSource Source, CancellationTokenRegistration Registration) Create()
    {
        var source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);

        // Registered after the source exists: a caller that has cancelled already cancels it now.
        return (source, _caller.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), source));
    }
}
