namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// Expected values come from an independent dense-matrix implementation with the same rules
/// (damping 0.85, uniform start, dangling mass spread uniformly, stop when the L1 change is below
/// N × 1e-4 or after 100 iterations):
/// <code>
/// def pagerank(n, edges, d=0.85, maxit=100):
///     W = [[0.0]*n for _ in range(n)]
///     for u, v, w in edges: W[u][v] += w
///     out = [sum(r) for r in W]
///     r = [1.0/n]*n
///     for _ in range(maxit):
///         dang = sum(r[u] for u in range(n) if out[u] == 0)
///         nr = [(1-d)/n + d*(sum(r[u]*W[u][v]/out[u] for u in range(n) if out[u] > 0) + dang/n) for v in range(n)]
///         err = sum(abs(a-b) for a, b in zip(nr, r)); r = nr
///         if err &lt; n*1e-4: break
///     return r
/// </code>
/// </summary>
public sealed class PageRankTests
{
    private const double Precision = 1e-6;

    [Fact]
    public void Weighted_cycle_with_a_chord()
    {
        // pagerank(3, [(0,1,1.0),(1,2,0.5),(2,0,0.5),(0,2,0.5)])
        var scores = WeightedPageRank.Compute(3, [new(0, 1, 1.0, 1), new(1, 2, 0.5, 1), new(2, 0, 0.5, 1), new(0, 2, 0.5, 1)]);

        AssertScores([0.367709116676, 0.258448718342, 0.373842164983], scores);
    }

    [Fact]
    public void Dangling_node_spreads_its_rank_uniformly()
    {
        // pagerank(4, [(0,1,0.5),(0,2,1.0),(1,2,0.5),(3,0,0.8)]): node 2 has no out-edge.
        var scores = WeightedPageRank.Compute(4, [new(0, 1, 0.5, 1), new(0, 2, 1.0, 1), new(1, 2, 0.5, 1), new(3, 0, 0.8, 1)]);

        AssertScores([0.239687554030, 0.197470313099, 0.433274119735, 0.129568013136], scores);
    }

    [Fact]
    public void Chain_with_an_isolated_node()
    {
        // pagerank(5, [(0,1,0.5),(1,2,0.55),(2,3,0.605)]): nodes 3 and 4 are dangling; 4 is isolated.
        var scores = WeightedPageRank.Compute(5, [new(0, 1, 0.5, 1), new(1, 2, 0.55, 1), new(2, 3, 0.605, 1)]);

        AssertScores([0.104093904223, 0.192557016167, 0.267689944770, 0.331565230616, 0.104093904223], scores);
    }

    [Fact]
    public void Symmetric_ring_is_uniform_and_no_edges_is_uniform()
    {
        AssertScores([0.25, 0.25, 0.25, 0.25], WeightedPageRank.Compute(4, [new(0, 1, 0.5, 1), new(1, 2, 0.5, 1), new(2, 3, 0.5, 1), new(3, 0, 0.5, 1)]));
        AssertScores([1 / 3.0, 1 / 3.0, 1 / 3.0], WeightedPageRank.Compute(3, []));
        Assert.Empty(WeightedPageRank.Compute(0, []));
    }

    [Fact]
    public void Scaling_every_weight_changes_nothing()
    {
        var once = WeightedPageRank.Compute(3, [new(0, 1, 0.2, 1), new(1, 2, 0.4, 1), new(0, 2, 0.6, 1)]);
        var doubled = WeightedPageRank.Compute(3, [new(0, 1, 0.4, 1), new(1, 2, 0.8, 1), new(0, 2, 1.2, 1)]);

        AssertScores(once, doubled);
    }

    private static void AssertScores(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < Precision, $"node {i}: expected {expected[i]}, got {actual[i]}");
        }

        if (actual.Length > 0)
        {
            Assert.Equal(1.0, actual.Sum(), 12);
        }
    }
}
