using System.Collections.Immutable;

namespace Pml.GraphEvents;

/// <summary>Everything computed from one state of the graph: density, PageRank, communities, the top list.</summary>
internal sealed class GraphMetricsResult
{
    public required ToolGraphMetrics Metrics { get; init; }

    public required double[] PageRank { get; init; }

    public required int[] Community { get; init; }
}

/// <summary>Computes <see cref="GraphMetricsResult"/> from scratch.</summary>
internal static class GraphMetricsCalculator
{
    public const int TopCount = 10;

    // Scores are compared at this many decimals when ranking, so that tools whose scores differ only
    // by rounding (symmetric positions) are ordered by id, the same way on every run.
    private const int RankingDecimals = 12;

    public static GraphMetricsResult Compute(ImmutableArray<ToolNode> nodes, ReadOnlySpan<EdgeData> edges, int seed)
    {
        var n = nodes.Length;
        var density = n <= 1 ? 0.0 : edges.Length / ((double)n * (n - 1));
        var pageRank = WeightedPageRank.Compute(n, edges);
        var community = Louvain.Detect(n, edges, seed, out var communities);
        var metrics = new ToolGraphMetrics(n, edges.Length, density, Top(nodes, pageRank, TopCount), communities);
        return new GraphMetricsResult { Metrics = metrics, PageRank = pageRank, Community = community };
    }

    /// <summary>The <paramref name="count"/> highest scores, highest first, ties by ordinal tool id.</summary>
    public static ToolScore[] Top(ImmutableArray<ToolNode> nodes, double[] scores, int count)
    {
        var take = Math.Min(count, nodes.Length);
        var top = new List<int>(take + 1);
        for (var i = 0; i < nodes.Length; i++)
        {
            // Insertion into a short sorted list: n log 10 instead of sorting all n tools.
            var position = top.Count;
            while (position > 0 && Before(i, top[position - 1]))
            {
                position--;
            }

            if (position < take)
            {
                top.Insert(position, i);
                if (top.Count > take)
                {
                    top.RemoveAt(take);
                }
            }
        }

        var result = new ToolScore[top.Count];
        for (var r = 0; r < result.Length; r++)
        {
            result[r] = new ToolScore(nodes[top[r]].Id, scores[top[r]]);
        }

        return result;

        bool Before(int a, int b)
        {
            var sa = Math.Round(scores[a], RankingDecimals);
            var sb = Math.Round(scores[b], RankingDecimals);
            return sa != sb ? sa > sb : string.CompareOrdinal(nodes[a].Id, nodes[b].Id) < 0;
        }
    }
}
