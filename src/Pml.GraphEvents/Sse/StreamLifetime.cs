namespace Pml.GraphEvents;

/// <summary>
/// The maximum lifetime of one stream (<see cref="GraphEventStreamWriterOptions.MaxStreamDuration"/>):
/// one timer on the writer's clock that, when it comes due, ends the subscription.
/// </summary>
/// <remarks>
/// <para>
/// Why a lifetime at all: a client that sends its request and never reads holds a subscriber slot
/// for as long as its socket stays open. On a quiet stream nothing ever shows it: the peer's kernel
/// acknowledges every heartbeat into its own receive buffer, so the server's flushes complete for
/// days before the buffers on both ends (megabytes) are full and <see cref="GraphEventStreamWriterOptions.WriteTimeout"/>
/// can start. No TCP-level check can tell such a client from a reader on a quiet stream; ending
/// every stream after a bounded time can, and costs a reader one reconnect with Last-Event-ID.
/// </para>
/// <para>
/// Why it ends the subscription rather than cancelling the writer: a cancellation would interrupt
/// a flush in the middle of a frame, and the frames already in the subscription's buffer would be
/// written to no one. Ending the subscription takes it out of the broadcast at once (its slot is
/// free), and the writer's ordinary path then writes what it still holds and returns, so the
/// stream closes after a whole frame. A flush that is stuck when the lifetime ends stays bounded by
/// the write timeout.
/// </para>
/// </remarks>
internal sealed class StreamLifetime : IDisposable
{
    private readonly GraphEventSubscription _subscription;
    private readonly ITimer? _timer;
    private int _reached;

    public StreamLifetime(GraphEventSubscription subscription, TimeSpan? maxDuration, TimeProvider clock)
    {
        _subscription = subscription;
        if (maxDuration is { } max)
        {
            _timer = clock.CreateTimer(static state => ((StreamLifetime)state!).Reach(), this, Jittered(max, Random.Shared.NextDouble()), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Whether the lifetime ended the subscription. Read after the writer saw the subscription end:
    /// the subscription's own end reason tells it apart from an end that happened first (lagging,
    /// the broadcaster disposed), whose <see cref="GraphEventSubscription.Dispose"/> call here did nothing.
    /// </summary>
    public bool Ended => Volatile.Read(ref _reached) != 0 && _subscription.EndReason == SubscriptionEndReason.Disposed;

    /// <summary>
    /// A lifetime between 0.9 and 1 times <paramref name="max"/> for a <paramref name="sample"/> in [0, 1).
    /// Downward only, so <paramref name="max"/> stays a true bound; a tenth of spread turns streams
    /// that opened together (a server restart, a network blip) into reconnects spread over a minute
    /// at the default ten minutes, instead of a storm every ten minutes for ever.
    /// </summary>
    internal static TimeSpan Jittered(TimeSpan max, double sample) => max * (0.9 + (0.1 * sample));

    public void Dispose() => _timer?.Dispose();

    private void Reach()
    {
        // Flag first: the writer reads it once it sees the end that Dispose causes.
        Volatile.Write(ref _reached, 1);
        _subscription.Dispose();
    }
}
