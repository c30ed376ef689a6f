namespace Pml.GraphEvents.Tests.Graph;

public sealed class LouvainTests
{
    [Fact]
    public void Two_cliques_joined_by_one_edge_are_two_communities()
    {
        List<EdgeData> edges = [.. Clique(0, 5), .. Clique(5, 5), new(4, 5, 0.5, 1)];

        var community = Louvain.Detect(10, [.. edges], seed: 42, out var count);

        Assert.Equal(2, count);
        Assert.All(Enumerable.Range(0, 5), i => Assert.Equal(community[0], community[i]));
        Assert.All(Enumerable.Range(5, 5), i => Assert.Equal(community[5], community[i]));
        Assert.NotEqual(community[0], community[5]);
    }

    [Fact]
    public void A_ring_of_five_cliques_is_five_communities()
    {
        List<EdgeData> edges = [];
        for (var c = 0; c < 5; c++)
        {
            edges.AddRange(Clique(c * 5, 5));
            edges.Add(new EdgeData((c * 5) + 4, ((c + 1) % 5) * 5, 0.5, 1));
        }

        foreach (var seed in new[] { 0, 1, 42, 1234 })
        {
            var community = Louvain.Detect(25, [.. edges], seed, out var count);

            Assert.Equal(5, count);
            for (var node = 0; node < 25; node++)
            {
                Assert.Equal(community[node / 5 * 5], community[node]);
            }
        }
    }

    [Fact]
    public void Isolated_tools_are_communities_of_their_own()
    {
        var community = Louvain.Detect(5, [new(0, 1, 0.5, 1), new(1, 0, 0.5, 1)], 42, out var count);

        Assert.Equal(4, count);
        Assert.Equal([0, 0, 1, 2, 3], community);
        Louvain.Detect(3, [], 42, out var none);
        Assert.Equal(3, none);
    }

    [Fact]
    public void Same_seed_same_communities()
    {
        var random = new Random(7);
        var edges = new List<EdgeData>();
        for (var e = 0; e < 600; e++)
        {
            var a = random.Next(120);
            var b = random.Next(120);
            if (a != b)
            {
                edges.Add(new EdgeData(a, b, 0.3 + (random.NextDouble() * 0.7), 1));
            }
        }

        var first = Louvain.Detect(120, [.. edges], 99, out var firstCount);
        var second = Louvain.Detect(120, [.. edges], 99, out var secondCount);

        Assert.Equal(firstCount, secondCount);
        Assert.Equal(first, second);
        Assert.InRange(firstCount, 2, 119);
    }

    [Fact]
    public void The_same_input_again_gives_the_same_communities_in_a_new_array_and_a_changed_one_is_recomputed()
    {
        var random = new Random(11);
        var edges = new List<EdgeData>();
        for (var e = 0; e < 400; e++)
        {
            var (a, b) = (random.Next(60), random.Next(60));
            if (a != b && !edges.Exists(x => x.From == a && x.To == b))
            {
                edges.Add(new EdgeData(a, b, 0.5, 1));
            }
        }

        EdgeData[] first = [.. edges];
        var once = Louvain.Detect(60, first, 5, out var onceCount);
        var again = Louvain.Detect(60, first, 5, out var againCount);
        Assert.NotSame(once, again);
        Assert.Equal(once, again);
        Assert.Equal(onceCount, againCount);

        // What Louvain does not read (the count) answers from memory; a confidence, a seed or a
        // tool more does not.
        EdgeData[] counted = [.. first.Select(e => e with { ObservedCount = 2 })];
        Assert.Equal(once, Louvain.Detect(60, counted, 5, out _));
        EdgeData[] bumped = [.. first];
        bumped[17] = bumped[17] with { Confidence = 0.55 };
        foreach (var (nodes, input, seed) in new[] { (60, bumped, 5), (60, first, 6), (61, first, 5) })
        {
            var expected = Frozen.FrozenLouvain.Detect(nodes, input, seed, out var expectedCount);
            Assert.Equal(expected, Louvain.Detect(nodes, input, seed, out var count));
            Assert.Equal(expectedCount, count);
        }
    }

    private static IEnumerable<EdgeData> Clique(int first, int size)
    {
        for (var a = first; a < first + size; a++)
        {
            for (var b = a + 1; b < first + size; b++)
            {
                yield return new EdgeData(a, b, 1.0, 1);
            }
        }
    }
}
