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

    internal override void WriteData(Utf8JsonWriter writer) =>
        JsonSerializer.Serialize(writer, this, GraphEventJsonContext.Default.MetricsUpdatedEvent);

    internal override long DataBound()
    {
        long bound = EncodedSize.Braces + (6 * EncodedSize.Field) + (4 * EncodedSize.Number) + EncodedSize.Timestamp;
        if (PageRankTop10 is { } top)
        {
            for (var i = 0; i < top.Count; i++)
            {
                // {"tool_id":...,"score":...}, and the comma after it.
                bound += EncodedSize.Braces + (2 * EncodedSize.Field) + EncodedSize.String(top[i]?.ToolId) + EncodedSize.Number + 1;
            }
        }

        return bound;
    }

    internal override string? FindUnencodableField()
    {
        if (NonFinite("density", Density) is { } density)
        {
            return density;
        }

        if (PageRankTop10 is { } top)
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
}
