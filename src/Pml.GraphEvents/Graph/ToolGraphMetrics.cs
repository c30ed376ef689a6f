namespace Pml.GraphEvents;

/// <summary>Metrics of one state of the tool graph, as sent in <c>metrics_updated</c>.</summary>
/// <param name="NodeCount">Tools in the graph.</param>
/// <param name="EdgeCount">Edges in the graph.</param>
/// <param name="Density">E / (N (N - 1)); 0 when N is at most 1.</param>
/// <param name="PageRankTop10">The ten tools of highest PageRank (fewer when the graph is smaller), highest first; ties in id order. <c>pagerank_top_10</c> on the wire.</param>
/// <param name="CommunitiesCount">Louvain communities; an isolated tool is a community of its own.</param>
public sealed record ToolGraphMetrics(int NodeCount, int EdgeCount, double Density, IReadOnlyList<ToolScore> PageRankTop10, int CommunitiesCount)
{
    /// <summary>The metrics of a graph with no tools.</summary>
    public static ToolGraphMetrics Empty { get; } = new(0, 0, 0, [], 0);

    /// <summary>The ten tools of highest PageRank (fewer when the graph is smaller), highest first; ties in id order.</summary>
    public IReadOnlyList<ToolScore> PageRankTop10 { get; init; } = PageRankTop10 ?? throw new ArgumentNullException(nameof(PageRankTop10));
}
