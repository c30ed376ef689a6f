using System.Collections.Frozen;

namespace Pml.GraphEvents;

/// <summary>
/// The fixed SSE event names of the library's own events (see docs/events.md). They are reserved:
/// a host's own types, registered per broadcaster in <see cref="GraphEventsOptions.CustomEventTypes"/>,
/// take other names.
/// </summary>
public static class GraphEventTypes
{
    /// <summary>First frame of every stream, sent to that client only.</summary>
    public const string Connected = "connected";

    /// <summary>The graph was loaded from its store.</summary>
    public const string GraphSynced = "graph_synced";

    /// <summary>A new tool-to-tool edge was learned.</summary>
    public const string EdgeCreated = "edge_created";

    /// <summary>An existing edge was observed again and its confidence raised.</summary>
    public const string EdgeUpdated = "edge_updated";

    /// <summary>A workflow execution was learned from.</summary>
    public const string WorkflowExecuted = "workflow_executed";

    /// <summary>Graph metrics were recomputed.</summary>
    public const string MetricsUpdated = "metrics_updated";

    /// <summary>Keep-alive sent every heartbeat interval.</summary>
    public const string Heartbeat = "heartbeat";

    /// <summary>This subscriber missed events (replay window exceeded, or its buffer overflowed): refetch a snapshot.</summary>
    public const string EventsLost = "events_lost";

    /// <summary>The length of the longest name (<see cref="WorkflowExecuted"/>), for size bounds.</summary>
    internal const int LongestName = 17;

    private static readonly FrozenDictionary<string, GraphEventKind> Kinds = new Dictionary<string, GraphEventKind>(StringComparer.Ordinal)
    {
        [Connected] = GraphEventKind.Connected,
        [GraphSynced] = GraphEventKind.GraphSynced,
        [EdgeCreated] = GraphEventKind.EdgeCreated,
        [EdgeUpdated] = GraphEventKind.EdgeUpdated,
        [WorkflowExecuted] = GraphEventKind.WorkflowExecuted,
        [MetricsUpdated] = GraphEventKind.MetricsUpdated,
        [Heartbeat] = GraphEventKind.Heartbeat,
        [EventsLost] = GraphEventKind.EventsLost,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every event name, in schema order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Connected, GraphSynced, EdgeCreated, EdgeUpdated, WorkflowExecuted, MetricsUpdated, Heartbeat, EventsLost];

    /// <summary>Whether <paramref name="eventType"/> is one of the library's event names (case-sensitive, as on the wire); a host's registered names are not.</summary>
    public static bool IsKnown(string? eventType) => eventType is not null && Kinds.ContainsKey(eventType);

    internal static GraphEventKind KindOf(string eventType) => Kinds[eventType];
}
