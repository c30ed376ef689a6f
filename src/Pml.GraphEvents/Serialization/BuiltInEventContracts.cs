using System.Globalization;
using System.Numerics;

namespace Pml.GraphEvents;

/// <summary>
/// The contracts of the library's eight event types: their names, bits, source-generated JSON (the
/// four an execution publishes written by hand, <see cref="BuiltInEventWriters"/>), the
/// size bounds of <see cref="EncodedSize"/> and the number checks. An event finds its own by its
/// <see cref="GraphEvent.Kind"/> (an array index), a name by a switch on the fixed names.
/// </summary>
internal static class BuiltInEventContracts
{
    public static readonly GraphEventContract<ConnectedEvent> Connected =
        new(GraphEventTypes.Connected, GraphEventKind.Connected, GraphEventJsonContext.Default.ConnectedEvent, EncodedSize.Data);

    public static readonly GraphEventContract<GraphSyncedEvent> GraphSynced =
        new(GraphEventTypes.GraphSynced, GraphEventKind.GraphSynced, GraphEventJsonContext.Default.GraphSyncedEvent, EncodedSize.Data, e => NonFinite("sync_duration_ms", e.SyncDurationMs));

    public static readonly GraphEventContract<EdgeCreatedEvent> EdgeCreated =
        new(GraphEventTypes.EdgeCreated, GraphEventKind.EdgeCreated, GraphEventJsonContext.Default.EdgeCreatedEvent, EncodedSize.Data, e => NonFinite("confidence_score", e.ConfidenceScore), BuiltInEventWriters.EdgeCreated);

    public static readonly GraphEventContract<EdgeUpdatedEvent> EdgeUpdated =
        new(GraphEventTypes.EdgeUpdated, GraphEventKind.EdgeUpdated, GraphEventJsonContext.Default.EdgeUpdatedEvent, EncodedSize.Data, e => NonFinite("old_confidence", e.OldConfidence) ?? NonFinite("new_confidence", e.NewConfidence), BuiltInEventWriters.EdgeUpdated);

    public static readonly GraphEventContract<WorkflowExecutedEvent> WorkflowExecuted =
        new(GraphEventTypes.WorkflowExecuted, GraphEventKind.WorkflowExecuted, GraphEventJsonContext.Default.WorkflowExecutedEvent, EncodedSize.Data, e => NonFinite("execution_time_ms", e.ExecutionTimeMs), BuiltInEventWriters.WorkflowExecuted);

    public static readonly GraphEventContract<MetricsUpdatedEvent> MetricsUpdated =
        new(GraphEventTypes.MetricsUpdated, GraphEventKind.MetricsUpdated, GraphEventJsonContext.Default.MetricsUpdatedEvent, EncodedSize.Data, FindUnencodable, BuiltInEventWriters.MetricsUpdated);

    public static readonly GraphEventContract<HeartbeatEvent> Heartbeat =
        new(GraphEventTypes.Heartbeat, GraphEventKind.Heartbeat, GraphEventJsonContext.Default.HeartbeatEvent, EncodedSize.Data);

    public static readonly GraphEventContract<EventsLostEvent> EventsLost =
        new(GraphEventTypes.EventsLost, GraphEventKind.EventsLost, GraphEventJsonContext.Default.EventsLostEvent, EncodedSize.Data);

    // Indexed by bit position: GraphEventKind gives the library's types bits 0 to 7, in this order.
    private static readonly GraphEventContract[] ByBit = [Connected, GraphSynced, EdgeCreated, EdgeUpdated, WorkflowExecuted, MetricsUpdated, Heartbeat, EventsLost];

    /// <summary>The contract of a library type's bit.</summary>
    public static GraphEventContract Of(GraphEventKind kind) => ByBit[BitOperations.TrailingZeroCount((ulong)kind)];

    /// <summary>The contract of one of the library's events.</summary>
    /// <exception cref="ArgumentException"><paramref name="graphEvent"/> is a host's type (or raw): it has no contract here.</exception>
    public static GraphEventContract Of(GraphEvent graphEvent) =>
        graphEvent.Kind != GraphEventKind.None
            ? Of(graphEvent.Kind)
            : throw new ArgumentException($"A {graphEvent.GetType().FullName} is not one of the library's event types; it is written through the registry that knows it.", nameof(graphEvent));

    /// <summary>The contract of a library type's name, or <see langword="null"/>.</summary>
    public static GraphEventContract? Find(string name) => name switch
    {
        GraphEventTypes.Connected => Connected,
        GraphEventTypes.GraphSynced => GraphSynced,
        GraphEventTypes.EdgeCreated => EdgeCreated,
        GraphEventTypes.EdgeUpdated => EdgeUpdated,
        GraphEventTypes.WorkflowExecuted => WorkflowExecuted,
        GraphEventTypes.MetricsUpdated => MetricsUpdated,
        GraphEventTypes.Heartbeat => Heartbeat,
        GraphEventTypes.EventsLost => EventsLost,
        _ => null,
    };

    private static string? FindUnencodable(MetricsUpdatedEvent e)
    {
        if (NonFinite("density", e.Density) is { } density)
        {
            return density;
        }

        if (e.PageRankTop10 is { } top)
        {
            for (var i = 0; i < top.Count; i++)
            {
                if (top[i] is { } score && NonFinite($"pagerank_top_10[{i}].score", score.Score) is { } bad)
                {
                    return bad;
                }
            }
        }

        return null;
    }

    private static string? NonFinite(string field, double value) =>
        double.IsFinite(value) ? null : $"{field} ({value.ToString(CultureInfo.InvariantCulture)})";
}
