namespace Pml.GraphEvents;

/// <summary>The graph was loaded from its store.</summary>
/// <param name="NodeCount">Tools in the graph after the sync.</param>
/// <param name="EdgeCount">Edges in the graph after the sync.</param>
/// <param name="SyncDurationMs">How long the sync took, in milliseconds.</param>
/// <param name="Timestamp">When the sync finished.</param>
public sealed record GraphSyncedEvent(int NodeCount, int EdgeCount, double SyncDurationMs, DateTimeOffset Timestamp)
    : GraphEvent(GraphEventTypes.GraphSynced, Timestamp)
{
    internal override GraphEventKind Kind => GraphEventKind.GraphSynced;
}
