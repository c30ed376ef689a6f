using System.Collections.Immutable;
using Pml.GraphEvents.Tests.Graph.Frozen;

namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// The metrics give the same results, bit for bit, as the implementation frozen in
/// <see cref="FrozenLouvain"/> and <see cref="FrozenWeightedPageRank"/> (before issue 16's rewrite):
/// replicas recompute the metrics and must agree with the learner to the bit, whatever version
/// each one runs, and the approved values rely on them. Many random graphs of the shapes the
/// engine meets: sparse and dense, confidences random (a sync) or of the engine's own ladder
/// 0.5 × 1.1ᵏ capped at 1 (many exact ties), edges both ways, isolated and dangling tools, and
/// PageRank from cold and from the previous state's scores, tools appended in between.
/// </summary>
public sealed class MetricsBitIdentityTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        // tools, edges, graphs
        { 1, 0, 3 },
        { 2, 1, 20 },
        { 3, 4, 100 },
        { 5, 8, 200 },
        { 8, 30, 200 },
        { 12, 20, 200 },
        { 20, 150, 100 },
        { 49, 300, 60 },
        { 49, 1_000, 40 },
        { 49, 2_000, 20 },
        { 120, 600, 30 },
        { 200, 2_000, 10 },
        { 1_000, 10_000, 3 },
        { 3_000, 9_000, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Louvain_gives_the_frozen_communities(int tools, int edgeCount, int graphs)
    {
        var random = new Random((tools * 7919) + edgeCount);
        for (var g = 0; g < graphs; g++)
        {
            var edges = RandomEdges(random, tools, edgeCount, (Weights)(g % 3));
            var seed = random.Next();
            var expected = FrozenLouvain.Detect(tools, edges, seed, out var expectedCount);

            var actual = Louvain.Detect(tools, edges, seed, out var actualCount);

            Assert.Equal(expectedCount, actualCount);
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PageRank_gives_the_frozen_scores_in_as_many_iterations(int tools, int edgeCount, int graphs)
    {
        var random = new Random((tools * 104729) + edgeCount);
        for (var g = 0; g < graphs; g++)
        {
            var edges = RandomEdges(random, tools, edgeCount, (Weights)(g % 3));
            var cold = FrozenWeightedPageRank.Compute(tools, edges, default, out var coldIterations);
            AssertSame(cold, coldIterations, WeightedPageRank.Compute(tools, edges, default, out var iterations), iterations);

            // As the engine does: the graph after one more execution, from the scores before it,
            // sometimes with tools appended that the previous scores do not know.
            var added = random.Next(3) == 0 ? random.Next(1, 4) : 0;
            var next = Learn(random, edges, tools + added, 2 + random.Next(4));
            var warm = FrozenWeightedPageRank.Compute(tools + added, next, cold, out var warmIterations);
            AssertSame(warm, warmIterations, WeightedPageRank.Compute(tools + added, next, cold, out iterations), iterations);

            // Starts that are not usable fall back to the uniform one, the same way.
            double[] bad = [.. cold];
            if (bad.Length > 0)
            {
                bad[random.Next(bad.Length)] = g % 2 == 0 ? double.NaN : -1;
                var fallback = FrozenWeightedPageRank.Compute(tools, edges, bad, out var fallbackIterations);
                AssertSame(fallback, fallbackIterations, WeightedPageRank.Compute(tools, edges, bad, out iterations), iterations);
            }
        }
    }

    [Theory]
    [InlineData(49, 400, 1)]
    [InlineData(200, 300, 2)]
    [InlineData(1_000, 200, 3)]
    public void A_learning_run_gives_the_frozen_metrics_at_every_step(int tools, int executions, int seed)
    {
        // The engine's loop: every execution changes a few edges (new ones at 0.5, known ones × 1.1
        // up to 1), then every metric is recomputed, PageRank from the previous scores.
        var random = new Random(seed);
        var nodes = Enumerable.Range(0, tools).Select(i => new ToolNode($"server{i % 7}:tool{i}")).ToImmutableArray();
        var edges = RandomEdges(random, tools, tools * 3, Weights.Ladder);
        var previous = GraphMetricsCalculator.Compute(nodes, edges, seed);
        double[] frozenPrevious = [.. previous.PageRank];
        for (var x = 0; x < executions; x++)
        {
            edges = Learn(random, edges, tools, 2 + random.Next(4));
            var expectedRank = FrozenWeightedPageRank.Compute(tools, edges, frozenPrevious);
            var expectedCommunity = FrozenLouvain.Detect(tools, edges, seed, out var expectedCount);

            var actual = GraphMetricsCalculator.Compute(nodes, edges, seed, previous.PageRank);

            AssertSame(expectedRank, 0, actual.PageRank, 0);
            Assert.Equal(expectedCommunity, actual.Community);
            Assert.Equal(expectedCount, actual.Metrics.CommunitiesCount);
            Assert.Equal(GraphMetricsCalculator.Top(nodes, expectedRank, GraphMetricsCalculator.TopCount), actual.Metrics.PageRankTop10);
            (previous, frozenPrevious) = (actual, expectedRank);
        }
    }

    private enum Weights
    {
        /// <summary>Uniform in (0.3, 1], as a sync loads them.</summary>
        Random,

        /// <summary>0.5 × 1.1ᵏ capped at 1, as the engine learns them: many exact ties.</summary>
        Ladder,

        /// <summary>Every edge at 1: ties everywhere.</summary>
        One,
    }

    private static EdgeData[] RandomEdges(Random random, int tools, int count, Weights weights)
    {
        var max = (long)tools * (tools - 1);
        count = (int)Math.Min(count, max);
        var seen = new HashSet<(int, int)>();
        var edges = new EdgeData[count];
        for (var e = 0; e < count;)
        {
            var (from, to) = (random.Next(tools), random.Next(tools));
            if (from != to && seen.Add((from, to)))
            {
                var confidence = weights switch
                {
                    Weights.Random => 0.3 + (random.NextDouble() * 0.7) + 1e-9,
                    Weights.Ladder => Ladder(random.Next(10)),
                    _ => 1.0,
                };
                edges[e++] = new EdgeData(from, to, confidence, 1);
            }
        }

        return edges;
    }

    /// <summary>One execution, a chain of <paramref name="length"/> tools, learned as the engine does.</summary>
    private static EdgeData[] Learn(Random random, EdgeData[] edges, int tools, int length)
    {
        if (tools < 2)
        {
            return edges;
        }

        var result = new List<EdgeData>(edges);
        var previous = random.Next(tools);
        for (var i = 1; i < length; i++)
        {
            var next = random.Next(tools);
            if (next != previous)
            {
                var index = result.FindIndex(e => e.From == previous && e.To == next);
                if (index >= 0)
                {
                    var edge = result[index];
                    result[index] = edge with { Confidence = Math.Min(edge.Confidence * 1.1, 1.0), ObservedCount = edge.ObservedCount + 1 };
                }
                else
                {
                    result.Add(new EdgeData(previous, next, 0.5, 1));
                }
            }

            previous = next;
        }

        return [.. result];
    }

    private static double Ladder(int steps)
    {
        var confidence = 0.5;
        for (var k = 0; k < steps; k++)
        {
            confidence = Math.Min(confidence * 1.1, 1.0);
        }

        return confidence;
    }

    private static void AssertSame(double[] expected, int expectedIterations, double[] actual, int actualIterations)
    {
        Assert.Equal(expectedIterations, actualIterations);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
            {
                Assert.Fail($"Score {i}: expected {expected[i]:R}, got {actual[i]:R}.");
            }
        }
    }
}
