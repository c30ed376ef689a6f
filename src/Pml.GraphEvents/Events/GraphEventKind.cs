namespace Pml.GraphEvents;

/// <summary>
/// One bit per event type, so a per-subscriber filter is a single AND in the pump's fan-out loop
/// instead of a string comparison per subscriber per event.
/// </summary>
[Flags]
internal enum GraphEventKind
{
    None = 0,
    Connected = 1 << 0,
    GraphSynced = 1 << 1,
    EdgeCreated = 1 << 2,
    EdgeUpdated = 1 << 3,
    WorkflowExecuted = 1 << 4,
    MetricsUpdated = 1 << 5,
    Heartbeat = 1 << 6,
    EventsLost = 1 << 7,

    /// <summary>Types a subscriber always receives, whatever its filter: they keep the stream itself alive and honest.</summary>
    Control = Connected | Heartbeat | EventsLost,

    /// <summary>The graph events a subscriber can choose among.</summary>
    Filterable = GraphSynced | EdgeCreated | EdgeUpdated | WorkflowExecuted | MetricsUpdated,

    All = Control | Filterable,
}
