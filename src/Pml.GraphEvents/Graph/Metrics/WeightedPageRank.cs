namespace Pml.GraphEvents;

/// <summary>
/// PageRank with edges weighted by confidence, as graphology-metrics computes it for the story's engine.
/// </summary>
/// <remarks>
/// QuikGraph 2.5.0's <c>PageRankAlgorithm</c> does not fit: it ignores edge weights, drops the mass
/// of dangling nodes instead of spreading it, and its ranks sum to N rather than 1. This one loops
/// over an edge array, which also keeps a full recompute cheap enough to run on every execution.
/// </remarks>
internal static class WeightedPageRank
{
    public const double Damping = 0.85;
    public const int MaxIterations = 100;

    /// <summary>Converged when the L1 change of an iteration is below N times this.</summary>
    public const double TolerancePerNode = 1e-4;

    /// <summary>Scores of nodes <c>0..n-1</c>, summing to 1 (empty when n is 0).</summary>
    public static double[] Compute(int nodeCount, ReadOnlySpan<EdgeData> edges)
    {
        var n = nodeCount;
        if (n == 0)
        {
            return [];
        }

        var outWeight = new double[n];
        foreach (var edge in edges)
        {
            outWeight[edge.From] += edge.Confidence;
        }

        // The share of its source's rank that each edge carries, computed once for all iterations.
        var share = new double[edges.Length];
        for (var e = 0; e < edges.Length; e++)
        {
            share[e] = edges[e].Confidence / outWeight[edges[e].From];
        }

        var rank = new double[n];
        var next = new double[n];
        Array.Fill(rank, 1.0 / n);
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            var danglingMass = 0.0;
            for (var v = 0; v < n; v++)
            {
                if (outWeight[v] == 0)
                {
                    danglingMass += rank[v];
                }
            }

            // Teleport plus the dangling nodes' rank, spread uniformly, so the scores keep summing to 1.
            var baseline = ((1 - Damping) / n) + (Damping * danglingMass / n);
            Array.Fill(next, baseline);
            for (var e = 0; e < edges.Length; e++)
            {
                next[edges[e].To] += Damping * rank[edges[e].From] * share[e];
            }

            var change = 0.0;
            for (var v = 0; v < n; v++)
            {
                change += Math.Abs(next[v] - rank[v]);
            }

            (rank, next) = (next, rank);
            if (change < n * TolerancePerNode)
            {
                break;
            }
        }

        return rank;
    }
}
