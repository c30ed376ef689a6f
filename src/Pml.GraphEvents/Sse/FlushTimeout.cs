using System.Diagnostics.CodeAnalysis;

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
    private bool _cancelledByCaller;
    private bool _armed;

    public FlushTimeout(TimeProvider timeProvider, CancellationToken caller)
    {
        _timeProvider = timeProvider;
        _caller = caller;
        Create();
    }

    /// <summary>Cancelled when an armed flush runs out of time, or when the caller's token is.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>
    /// Whether an armed flush's token was cancelled by the timeout, before the caller cancelled (if it did).
    /// The caller's token alone cannot tell: a host may cancel it in answer to the timeout itself
    /// (Kestrel aborts a request whose flush was cancelled, and over HTTP/2 that reaches the
    /// request's token before the writer sees the cancelled flush). Nor can the clock: a timer
    /// may fire a fraction of a millisecond before a high-resolution clock says it is due.
    /// </summary>
    public bool TimedOut => _armed && _source.IsCancellationRequested && !Volatile.Read(ref _cancelledByCaller);

    public void Arm(TimeSpan timeout)
    {
        _armed = true;
        _source.CancelAfter(timeout);
    }

    /// <summary>Disarms after a flush that completed; returns the token for what follows.</summary>
    public CancellationToken Disarm()
    {
        _armed = false;

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
            Create();
        }

        return _source.Token;
    }

    public void Dispose()
    {
        _callerRegistration.Dispose();
        _source.Dispose();
    }

    [MemberNotNull(nameof(_source))]
    private void Create()
    {
        Volatile.Write(ref _cancelledByCaller, false);
        _source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);

        // Registered after the source exists: a caller that has cancelled already cancels it now.
        // The registration is disposed before _source is replaced, so the callback always sees
        // the source it was registered for.
        _callerRegistration = _caller.UnsafeRegister(static state => ((FlushTimeout)state!).CancelForCaller(), this);
    }

    private void CancelForCaller()
    {
        // Cancelling marks the source at once, before its callbacks run: a source already
        // cancelled here was cancelled by its timer, so the timeout came first.
        Volatile.Write(ref _cancelledByCaller, !_source.IsCancellationRequested);
        _source.Cancel();
    }
}
