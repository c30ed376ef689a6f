namespace Pml.GraphEvents;

/// <summary>
/// Carries events between the hosts of one service (for example Pml.GraphEvents.Redis). With a
/// backplane, the broadcaster does not number events itself: local publishes go to the backplane,
/// which gives each one its place in a shared, ordered log and feeds every host's broadcaster,
/// this one included, through <see cref="Broadcaster.WriteSequencedAsync"/> with the log's ids.
/// So every host delivers the same events in the same order under the same ids, and a client can
/// resume on any host. Internal: the backplanes ship with this library, versioned with it.
/// </summary>
internal interface IGraphEventBackplane
{
    /// <summary>Called once by the broadcaster that this backplane feeds, from its constructor.</summary>
    void Attach(Broadcaster broadcaster);

    /// <summary>
    /// Queues a locally published event (checked, with its contract, and its data JSON when the check
    /// encoded it) for the shared log without waiting; <see langword="false"/> when it cannot take it.
    /// </summary>
    bool TryPublish(in IngressItem item);

    /// <summary>Queues a locally published event for the shared log. An implementation may wait while its queue is full, or (as the Redis backplane does) never wait and drop its oldest queued event instead.</summary>
    ValueTask PublishAsync(IngressItem item, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="id"/>, newer than anything this host has broadcast, can be an id the
    /// log issued that this host has not read yet (a client moving from a host that is ahead).
    /// </summary>
    bool MayHaveIssued(long id);

    /// <summary>
    /// The events after <paramref name="afterId"/> up to and including <paramref name="throughId"/>
    /// that pass <paramref name="mask"/>, as frames, for a resume older than the local replay ring.
    /// When the log no longer holds all of them, the first frame is an <c>events_lost</c> notice.
    /// Never throws: a failure is reported to the client as a loss.
    /// </summary>
    Task<GraphEventFrame[]> FetchAsync(long afterId, long throughId, GraphEventKind mask);
}
