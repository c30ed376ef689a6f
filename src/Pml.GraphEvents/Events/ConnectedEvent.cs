namespace Pml.GraphEvents;

/// <summary>The first frame of every subscription, addressed to that subscriber only.</summary>
/// <param name="ClientId">An id for this subscription, unique per broadcaster (a GUID).</param>
/// <param name="ConnectedClients">Subscribers connected, including this one.</param>
/// <param name="Timestamp">When the subscription started.</param>
public sealed record ConnectedEvent(string ClientId, int ConnectedClients, DateTimeOffset Timestamp)
    : GraphEvent(GraphEventTypes.Connected, Timestamp)
{
    internal override GraphEventKind Kind => GraphEventKind.Connected;
}
