namespace Pml.GraphEvents;

/// <summary>Everything computed from one state of the graph: density, PageRank, communities, the top list.</summary>
internal sealed class GraphMetricsResult
{
    public required ToolGraphMetrics Metrics { get; init; }

    public required double[] PageRank { get; init; }

    public required int[] Community { get; init; }
}
