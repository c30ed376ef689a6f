using System.Threading.Channels;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Wakes a loop that reads Redis when there is something to read: rung by a pub/sub notification
/// (or a reconnect), and, for a notification lost while the pub/sub connection was down, by a poll.
/// One loop waits on a doorbell at a time; any thread rings it.
/// </summary>
/// <remarks>
/// The pending wait is carried over from one call to the next, so a quiet doorbell does not pile up
/// one channel waiter per poll; and the poll's timer is disposed as soon as a ring wins
/// (<see cref="Task.WaitAsync(TimeSpan, TimeProvider, CancellationToken)"/> does that), so a busy one
/// does not pile up one live timer per ring. Rings while nobody waits are kept as one.
/// </remarks>
internal sealed class RedisDoorbell(TimeSpan pollInterval, TimeProvider timeProvider)
{
    private readonly Channel<bool> _bell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // Touched only by the one waiting loop.
    private Task<bool>? _pending;

    public void Ring() => _bell.Writer.TryWrite(true);

    /// <summary>Returns at a ring, or after <paramref name="timeout"/> (the poll interval by default).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task WaitAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        if (_bell.Reader.TryRead(out _))
        {
            return;
        }

        _pending ??= _bell.Reader.WaitToReadAsync(cancellationToken).AsTask();
        await ((Task)_pending.WaitAsync(timeout ?? pollInterval, timeProvider, cancellationToken)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        if (_pending.IsCompleted)
        {
            // Rung (or a wait made with an earlier, now cancelled, token ended): wait anew next time.
            _pending = null;
            _bell.Reader.TryRead(out _);
        }
    }
}
