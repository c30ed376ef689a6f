namespace Pml.GraphEvents;

/// <summary>
/// Tells one subscriber that it missed events, so it can refetch a snapshot of the graph.
/// Sent after <c>connected</c> when a resume asks for more than the replay window holds, and
/// before the next event when the drop-oldest policy discarded frames of a slow subscriber.
/// </summary>
/// <param name="Reason">One of <see cref="EventsLostReasons"/>.</param>
/// <param name="LostCount">How many events were missed, or <see langword="null"/> when that cannot be known.</param>
/// <param name="Timestamp">When the loss was noticed.</param>
public sealed record EventsLostEvent(string Reason, long? LostCount, DateTimeOffset Timestamp)
    : GraphEvent(GraphEventTypes.EventsLost, Timestamp)
{
    internal override GraphEventKind Kind => GraphEventKind.EventsLost;
}
