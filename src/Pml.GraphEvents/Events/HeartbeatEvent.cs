namespace Pml.GraphEvents;

/// <summary>
/// Keep-alive sent to every subscriber each heartbeat interval. Only the broadcaster sends it:
/// publishing one throws <see cref="ArgumentException"/>; it is public so that a client can read it.
/// </summary>
/// <param name="ConnectedClients">Subscribers connected when it was sent.</param>
/// <param name="UptimeSeconds">Whole seconds since the broadcaster started.</param>
/// <param name="Timestamp">When it was sent.</param>
public sealed record HeartbeatEvent(int ConnectedClients, long UptimeSeconds, DateTimeOffset Timestamp)
    : GraphEvent(GraphEventTypes.Heartbeat, Timestamp)
{
    /// <summary>
    /// <see langword="true"/> while this server cannot reach the shared log its events come from (the
    /// Redis backplane's Redis): events published meanwhile are delayed, and executions are refused
    /// (503) rather than taken. Absent (<see langword="null"/>) otherwise, and always without a backplane.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public bool? Degraded { get; init; }

    internal override GraphEventKind Kind => GraphEventKind.Heartbeat;
}
