using System.Text.Json.Serialization;

namespace Pml.GraphEvents;

/// <summary>Graph metrics were recomputed.</summary>
/// <param name="EdgeCount">Edges in the graph.</param>
/// <param name="NodeCount">Tools in the graph.</param>
/// <param name="Density">E / (N (N - 1)), 0 when N is at most 1.</param>
/// <param name="PageRankTop10">The ten tools of highest PageRank, highest first (fewer when the graph is smaller).</param>
/// <param name="CommunitiesCount">Louvain communities; an isolated tool is a community of its own.</param>
/// <param name="Timestamp">When the metrics were computed.</param>
public sealed record MetricsUpdatedEvent(
    int EdgeCount,
    int NodeCount,
    double Density,
    [property: JsonPropertyName("pagerank_top_10")] IReadOnlyList<ToolScore> PageRankTop10,
    int CommunitiesCount,
    DateTimeOffset Timestamp)
    : GraphEvent(GraphEventTypes.MetricsUpdated, Timestamp)
{
    internal override GraphEventKind Kind => GraphEventKind.MetricsUpdated;
}
