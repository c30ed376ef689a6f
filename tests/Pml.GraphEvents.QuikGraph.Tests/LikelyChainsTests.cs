using Pml.GraphEvents.QuikGraph.Tests.TestSupport;

namespace Pml.GraphEvents.QuikGraph.Tests;

public sealed class LikelyChainsTests
{
    private const double Tolerance = 1e-12;

    public static TheoryData<int, int, double> RandomGraphs()
    {
        var data = new TheoryData<int, int, double>();
        for (var seed = 1; seed <= 12; seed++)
        {
            data.Add(seed, 6, 0.45);
            data.Add(100 + seed, 8, 0.35);
        }

        data.Add(7, 9, 0.6);
        return data;
    }

    [Theory]
    [MemberData(nameof(RandomGraphs))]
    public async Task Top_k_chains_match_brute_force_on_random_graphs(int seed, int size, double density)
    {
        var snapshot = await Graphs.RandomAsync(seed, size, density);
        var tools = snapshot.Nodes.Select(n => n.Id).ToArray();
        var compared = 0;
        foreach (var from in tools)
        {
            foreach (var to in tools.Where(t => t != from))
            {
                var all = Graphs.AllChains(snapshot, from, to);
                foreach (var k in new[] { 1, 3, 20 })
                {
                    var chains = snapshot.GetLikelyChains(from, to, k);
                    AssertSameTopChains(all, chains, k, $"seed {seed}, {from} -> {to}, k {k}");
                    compared += chains.Count;
                }
            }
        }

        // The graphs are dense enough that the comparison is not vacuous.
        Assert.True(compared > 50, $"only {compared} chains compared");
    }

    [Fact]
    public async Task Diamond_gives_both_chains_the_more_observed_first()
    {
        // a → b seen 3 times (confidence 0.605), a → c once (0.5); b → d and c → d once each.
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        var diamond = new WorkflowExecution(
            "w0",
            [new("1", "a", []), new("2", "b", ["1"]), new("3", "c", ["1"]), new("4", "d", ["2", "3"])],
            Success: true,
            ExecutionTimeMs: 0);
        var result = await engine.UpdateFromExecutionsAsync(
            [diamond, WorkflowExecution.Chain("w1", ["a", "b"]), WorkflowExecution.Chain("w2", ["a", "b"])],
            TestContext.Current.CancellationToken);
        var snapshot = result.Snapshot;

        var chains = snapshot.GetLikelyChains("a", "d", 5);

        var ab = 0.5 * 1.1 * 1.1;
        Assert.Equal(2, chains.Count);
        Assert.Equal(["a", "b", "d"], chains[0].ToolIds);
        Assert.Equal(ab / (ab + 0.5), chains[0].Probability, Tolerance);
        Assert.Equal(["a", "c", "d"], chains[1].ToolIds);
        Assert.Equal(0.5 / (ab + 0.5), chains[1].Probability, Tolerance);
        Assert.Equal(1.0, chains.Sum(c => c.Probability), Tolerance);

        var best = Assert.Single(snapshot.GetLikelyChains("a", "d", 1));
        Assert.Equal(["a", "b", "d"], best.ToolIds);

        var step = Assert.Single(snapshot.GetLikelyChains("b", "d", 3));
        Assert.Equal(["b", "d"], step.ToolIds);
        Assert.Equal(1.0, step.Probability);
    }

    [Fact]
    public async Task The_docs_example_gives_the_numbers_the_docs_show()
    {
        // docs/graph-engine.md, "Questions: next tools and likely chains".
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        var snapshot = (await engine.UpdateFromExecutionsAsync(
            [
                WorkflowExecution.Chain("wf-1", ["search", "fetch", "summarize"]),
                WorkflowExecution.Chain("wf-2", ["search", "fetch", "translate"]),
                WorkflowExecution.Chain("wf-3", ["search", "summarize"]),
            ],
            TestContext.Current.CancellationToken)).Snapshot;

        var chains = snapshot.GetLikelyChains("search", "summarize", 3);

        Assert.Equal([["search", "summarize"], ["search", "fetch", "summarize"]], chains.Select(c => c.ToolIds.ToArray()).ToArray());
        Assert.Equal(["48 %", "26 %"], chains.Select(c => c.Probability.ToString("P0", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task A_longer_chain_wins_when_the_direct_step_is_unlikely()
    {
        // a → x 8 times, a → b once; x → b 8 times, x → y once: a → x → b beats a → b.
        var snapshot = await Graphs.LearnAsync(["a", "b", "x", "y"], [("a", "x", 8), ("a", "b", 1), ("x", "b", 8), ("x", "y", 1)]);

        var chains = snapshot.GetLikelyChains("a", "b", 3);

        Assert.Equal([["a", "x", "b"], ["a", "b"]], chains.Select(c => c.ToolIds.ToArray()).ToArray());
        var ax = snapshot.GetStepProbability("a", "x");
        Assert.Equal(ax * snapshot.GetStepProbability("x", "b"), chains[0].Probability, Tolerance);
        Assert.Equal(snapshot.GetStepProbability("a", "b"), chains[1].Probability, Tolerance);
    }

    [Fact]
    public async Task Chains_through_a_cycle_are_simple()
    {
        // a ⇄ b, b → c, c → a, b → d: every chain from a to d visits each tool once.
        var snapshot = await Graphs.LearnAsync(["a", "b", "c", "d"], [("a", "b", 2), ("b", "a", 3), ("b", "c", 1), ("c", "a", 1), ("b", "d", 1)]);

        var chain = Assert.Single(snapshot.GetLikelyChains("a", "d", 20));

        Assert.Equal(["a", "b", "d"], chain.ToolIds);
        Assert.Equal(1.0 * snapshot.GetStepProbability("b", "d"), chain.Probability, Tolerance);
    }

    [Fact]
    public async Task Unreachable_target_gives_no_chain()
    {
        var snapshot = await Graphs.LearnAsync(["a", "b", "c", "lonely"], [("a", "b", 1), ("b", "c", 1)]);

        Assert.Empty(snapshot.GetLikelyChains("c", "a", 3));
        Assert.Empty(snapshot.GetLikelyChains("a", "lonely", 3));
        Assert.Empty(snapshot.GetLikelyChains("lonely", "a", 3));
        Assert.Single(snapshot.GetLikelyChains("a", "c", 3));
    }

    [Fact]
    public async Task Unknown_tools_same_tool_and_k_outside_1_to_20_are_argument_errors_naming_the_parameter()
    {
        var snapshot = await Graphs.LearnAsync(["a", "b"], [("a", "b", 1)]);

        Assert.Equal("fromToolId", Assert.Throws<ArgumentException>(() => snapshot.GetLikelyChains("ghost", "b", 3)).ParamName);
        Assert.Equal("toToolId", Assert.Throws<ArgumentException>(() => snapshot.GetLikelyChains("a", "ghost", 3)).ParamName);
        Assert.Equal("toToolId", Assert.Throws<ArgumentException>(() => snapshot.GetLikelyChains("a", "a", 3)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => snapshot.GetLikelyChains("a", "b", 0)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => snapshot.GetLikelyChains("a", "b", 21)).ParamName);
        Assert.Single(snapshot.GetLikelyChains("a", "b", ToolGraphSnapshotQuikGraphExtensions.MaxChainCount));
        Assert.Throws<ArgumentNullException>(() => snapshot.GetLikelyChains(null!, "b", 3));
        Assert.Equal("fromToolId", Assert.Throws<ArgumentException>(() => ToolGraphSnapshot.Empty.GetLikelyChains("a", "b", 1)).ParamName);
    }

    [Fact]
    public async Task Concurrent_questions_on_one_snapshot_agree_with_one_at_a_time()
    {
        var snapshot = await Graphs.RandomAsync(seed: 42, size: 8, density: 0.4);
        var expected = Graphs.AllChains(snapshot, "t0", "t7").Take(5).Select(c => c.Probability).ToArray();

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => snapshot.GetLikelyChains("t0", "t7", 5), TestContext.Current.CancellationToken)));

        foreach (var answer in answers)
        {
            Assert.Equal(expected.Length, answer.Count);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], answer[i].Probability, Tolerance);
            }
        }
    }

    private static void AssertSameTopChains(List<ToolChain> all, IReadOnlyList<ToolChain> chains, int k, string where)
    {
        Assert.True(Math.Min(k, all.Count) == chains.Count, $"{where}: {chains.Count} chains, expected {Math.Min(k, all.Count)}");
        for (var i = 0; i < chains.Count; i++)
        {
            var chain = chains[i];
            Assert.True(Math.Abs(all[i].Probability - chain.Probability) <= Tolerance, $"{where}: chain {i} has probability {chain.Probability}, brute force {all[i].Probability}");

            // Each chain is a real simple chain of the graph with the product the brute force gives it.
            Assert.Equal(chain.ToolIds.Count, chain.ToolIds.Distinct().Count());
            var same = all.Find(c => c.ToolIds.SequenceEqual(chain.ToolIds));
            Assert.True(same is not null, $"{where}: chain {string.Join(",", chain.ToolIds)} is not a chain of the graph");
            Assert.Equal(same.Probability, chain.Probability, Tolerance);

            // Where the probability is unique, the chain is the brute force's.
            var distinct = (i == 0 || all[i - 1].Probability - all[i].Probability > Tolerance)
                && (i + 1 >= all.Count || all[i].Probability - all[i + 1].Probability > Tolerance);
            if (distinct)
            {
                Assert.Equal(all[i].ToolIds, chain.ToolIds);
            }
        }
    }
}
