using System.Collections.Immutable;

namespace Pml.GraphEvents;

/// <summary>Computes <see cref="GraphMetricsResult"/> from scratch.</summary>
internal static class GraphMetricsCalculator
{
    public const int TopCount = 10;

    // Scores closer than this rank as equal, and then by id. Each score is within
    // WeightedPageRank.Tolerance (1e-10) of the exact one, and where it started from (the previous
    // snapshot) moves it within that bound, so tools of equal exact score (symmetric positions) may
    // differ by up to 2e-10: a band ten times the tolerance orders them by id on every run, whatever
    // the history. Rounding to fixed decimals would not: a rounding boundary can fall between them.
    private const double TieBand = 10 * WeightedPageRank.Tolerance;

    /// <summary>Computes every metric.</summary>
    /// <param name="nodes">The tools.</param>
    /// <param name="edges">The edges between them.</param>
    /// <param name="seed">The Louvain seed.</param>
    /// <param name="previousPageRank">The previous snapshot's scores, where PageRank starts (see <see cref="WeightedPageRank.Compute(int, ReadOnlySpan{EdgeData}, ReadOnlySpan{double})"/>); empty for a uniform start.</param>
    public static GraphMetricsResult Compute(ImmutableArray<ToolNode> nodes, ReadOnlySpan<EdgeData> edges, int seed, ReadOnlySpan<double> previousPageRank = default)
    {
        var n = nodes.Length;
        var density = n <= 1 ? 0.0 : edges.Length / ((double)n * (n - 1));
        var pageRank = WeightedPageRank.Compute(n, edges, previousPageRank);
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
            var (sa, sb) = (scores[a], scores[b]);
            return Math.Abs(sa - sb) > TieBand ? sa > sb : string.CompareOrdinal(nodes[a].Id, nodes[b].Id) < 0;
        }
    }
}
