namespace Pml.GraphEvents;

/// <summary>
/// One bit per event type, so a per-subscriber filter is a single AND in the pump's fan-out loop
/// instead of a string comparison per subscriber per event. The library's eight types take the
/// low bits; a broadcaster's registered types take the 56 above them, in registration order
/// (hence the registry's limit of 56 types), so a filter stays one 64-bit word.
/// </summary>
[Flags]
internal enum GraphEventKind : ulong
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

    /// <summary>The library's graph events a subscriber can choose among.</summary>
    Filterable = GraphSynced | EdgeCreated | EdgeUpdated | WorkflowExecuted | MetricsUpdated,

    /// <summary>The bit of the first registered type; the n-th (from 0) has this shifted left by n.</summary>
    FirstCustom = 1 << 8,

    /// <summary>Every bit a registered type may have.</summary>
    Custom = ulong.MaxValue << 8,

    All = ulong.MaxValue,
}
