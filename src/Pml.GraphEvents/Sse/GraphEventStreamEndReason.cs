namespace Pml.GraphEvents;

/// <summary>Why <see cref="GraphEventStreamWriter"/> stopped writing a stream.</summary>
public enum GraphEventStreamEndReason
{
    /// <summary>
    /// Not a reason: the value of a default <see cref="GraphEventStreamResult"/>. The writer never
    /// returns it, as a live subscription's <see cref="GraphEventSubscription.EndReason"/> is
    /// <see cref="SubscriptionEndReason.None"/>.
    /// </summary>
    None = 0,

    /// <summary>
    /// The subscription ended (disposed, lagging or broadcaster disposed; see
    /// <see cref="GraphEventStreamResult.SubscriptionEndReason"/>) and every frame it held was written.
    /// </summary>
    SubscriptionEnded = 1,

    /// <summary>The cancellation token fired, typically because the client disconnected.</summary>
    Cancelled = 2,

    /// <summary>A flush took longer than <see cref="GraphEventStreamWriterOptions.WriteTimeout"/>: the client stopped reading.</summary>
    WriteTimedOut = 3,

    /// <summary>The output was closed or failed (its reader completed, or the connection was reset).</summary>
    OutputClosed = 4,

    /// <summary>
    /// The stream was open for <see cref="GraphEventStreamWriterOptions.MaxStreamDuration"/> (less a
    /// random part of up to a tenth): the writer ended the subscription, wrote every frame it held and
    /// returned, so the stream closes cleanly (<see cref="GraphEventStreamResult.SubscriptionEndReason"/>
    /// is <see cref="SubscriptionEndReason.Disposed"/>). The client reconnects after <c>retry:</c> with
    /// <c>Last-Event-ID</c> and misses nothing the replay window holds.
    /// </summary>
    MaxDurationReached = 5,
}
