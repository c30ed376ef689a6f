using System.Text.Json;

namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// PageRank is converged: every score within 1e-10 of the exact one (DESIGN §3), from a cold or a
/// warm start. The literal values of the small cases are the exact rational solutions of the
/// linear system, computed with Python's <c>fractions</c> and rounded to double:
/// <code>
/// # x_v = (1-d)/n + d * (sum over u with out-edges of x_u W[u][v] / out[u]  +  sum over dangling u of x_u / n)
/// A[v][v] += 1; A[v][u] -= d*W[u][v]/out[u] (or d/n when u is dangling); b[v] = (1-d)/n; solve A x = b exactly.
/// </code>
/// The larger graphs are checked against <see cref="Reference"/>, written here independently of the
/// engine's code: a dense exact solve for up to 50 tools, and a pull-style power iteration run until
/// its L1 change is below 1e-15 for 2,000 and 20,000 tools.
/// </summary>
public sealed class PageRankTests
{
    /// <summary>What DESIGN §3 asks for, per score.</summary>
    private const double Precision = 1e-10;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Weighted_cycle_with_a_chord()
    {
        var scores = WeightedPageRank.Compute(3, [new(0, 1, 1.0, 1), new(1, 2, 0.5, 1), new(2, 0, 0.5, 1), new(0, 2, 0.5, 1)]);

        AssertScores([0.3677626876340243, 0.2583988563259471, 0.3738384560400286], scores);
    }

    [Fact]
    public void Dangling_node_spreads_its_rank_uniformly()
    {
        // Node 2 has no out-edge.
        var scores = WeightedPageRank.Compute(4, [new(0, 1, 0.5, 1), new(0, 2, 1.0, 1), new(1, 2, 0.5, 1), new(3, 0, 0.8, 1)]);

        AssertScores([0.2396981099480114, 0.19748101040311392, 0.43325433373103067, 0.129566545917844], scores);
    }

    [Fact]
    public void Chain_with_an_isolated_node()
    {
        // Nodes 3 and 4 are dangling; 4 is isolated.
        var scores = WeightedPageRank.Compute(5, [new(0, 1, 0.5, 1), new(1, 2, 0.55, 1), new(2, 3, 0.605, 1)]);

        AssertScores([0.10406774810401571, 0.19252533399242908, 0.2677142819975804, 0.3316248878019591, 0.10406774810401571], scores);
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

    [Fact]
    public async Task The_sample_graph_of_50_tools_matches_the_exact_solution_after_every_execution()
    {
        // The server's sample catalog (49 tools, 20 workflows) plus a tool that takes part in
        // nothing; each workflow observed one to three times, so confidences differ. Every
        // snapshot's PageRank started from the one before (warm start) and must still be exact.
        var (tools, workflows) = SampleCatalog();
        var engine = ToolGraphEngine.Create(new RecordingPublisher());
        await engine.RegisterToolsAsync([.. tools.Select(t => new ToolNode(t)), new ToolNode("lonely")], Ct);
        Assert.Equal(50, engine.Snapshot.Nodes.Count);

        var random = new Random(7);
        var executions = 0;
        foreach (var workflow in workflows)
        {
            for (var repeat = random.Next(1, 4); repeat > 0; repeat--)
            {
                var snapshot = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain($"w{executions++}", workflow), Ct);
                AssertScores(Reference.Solve(snapshot), [.. snapshot.PageRank]);
            }
        }

        Assert.True(engine.Snapshot.Edges.Count > 40, $"{engine.Snapshot.Edges.Count} edges");
    }

    [Theory]
    [InlineData(2_000, 6)]
    [InlineData(20_000, 5)]
    public void A_large_random_graph_matches_the_reference_from_a_cold_and_a_warm_start(int tools, int edgesPerTool)
    {
        var edges = RandomGraph(tools, edgesPerTool, seed: tools);
        var expected = Reference.Iterate(tools, edges);

        var cold = WeightedPageRank.Compute(tools, edges, [], out var coldIterations);
        AssertScores(expected, cold);
        Assert.InRange(coldIterations, 1, WeightedPageRank.MaxIterations - 1);

        // One execution later: a few edges reinforced and one new tool with an edge. The previous
        // scores are the start, and the result is as exact as from scratch, in fewer steps.
        var changed = edges.ToList();
        for (var k = 0; k < 3; k++)
        {
            var e = (k * 7919) % changed.Count;
            changed[e] = changed[e] with { Confidence = Math.Min(changed[e].Confidence * 1.1, 1.0), ObservedCount = changed[e].ObservedCount + 1 };
        }

        changed.Add(new EdgeData(0, tools, 0.5, 1));
        var expectedAfter = Reference.Iterate(tools + 1, [.. changed]);
        var warm = WeightedPageRank.Compute(tools + 1, [.. changed], cold, out var warmIterations);

        AssertScores(expectedAfter, warm);
        TestContext.Current.TestOutputHelper?.WriteLine($"{tools} tools, {edges.Length} edges: {coldIterations} iterations cold, {warmIterations} warm");
        Assert.True(warmIterations < coldIterations, $"warm start took {warmIterations} iterations, cold {coldIterations}");
    }

    [Fact]
    public async Task An_engine_of_2000_tools_is_exact_after_sync_and_after_each_execution()
    {
        const int Tools = 2_000;
        var random = new Random(11);
        var nodes = Enumerable.Range(0, Tools).Select(i => new ToolNode($"t{i}")).ToArray();
        var stored = RandomGraph(Tools, 5, seed: 3)
            .Select(e => new ToolGraphEdge(nodes[e.From].Id, nodes[e.To].Id, e.Confidence, e.ObservedCount))
            .ToList();
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), new InMemoryToolGraphStore(nodes, stored));

        var snapshot = await engine.SyncAsync(Ct);
        AssertScores(Reference.Iterate(snapshot), [.. snapshot.PageRank]);
        for (var i = 0; i < 5; i++)
        {
            var chain = Enumerable.Range(0, 4).Select(_ => nodes[random.Next(Tools)].Id).Distinct();
            snapshot = await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain($"e{i}", chain), Ct);
            AssertScores(Reference.Iterate(snapshot), [.. snapshot.PageRank]);
        }
    }

    [Fact]
    public void A_start_that_cannot_be_used_is_replaced_by_the_uniform_one()
    {
        EdgeData[] edges = [new(0, 1, 0.5, 1), new(1, 2, 0.55, 1), new(2, 3, 0.605, 1)];
        var expected = Reference.Solve(5, edges);

        AssertScores(expected, WeightedPageRank.Compute(5, edges, [double.NaN, 1, 1, 1, 1]));
        AssertScores(expected, WeightedPageRank.Compute(5, edges, [-1.0, 1, 1, 1, 1]));
        AssertScores(expected, WeightedPageRank.Compute(5, edges, [0.0, 0, 0, 0, 0]));
        AssertScores(expected, WeightedPageRank.Compute(5, edges, [1e6, 0, 0, 0, 0, 0, 0]));
        AssertScores(expected, WeightedPageRank.Compute(5, edges, [0.5, 0.5]));
    }

    [Fact]
    public void The_stop_rule_bounds_the_error_by_the_tolerance()
    {
        // d δ / (1 − d) ≤ 1e-10 at the threshold.
        Assert.InRange(WeightedPageRank.Damping * WeightedPageRank.StopChange / (1 - WeightedPageRank.Damping), 0, WeightedPageRank.Tolerance * (1 + 1e-12));

        // From the worst start (all mass on one node) the rule is met within the cap: δₖ ≤ 2 dᵏ.
        var worst = (int)Math.Ceiling(Math.Log(WeightedPageRank.StopChange / 2) / Math.Log(WeightedPageRank.Damping));
        Assert.True(worst < WeightedPageRank.MaxIterations, $"{worst} iterations may be needed");
    }

    private static void AssertScores(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0.0;
        var worstNode = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs(expected[i] - actual[i]);
            if (error > worst)
            {
                (worst, worstNode) = (error, i);
            }
        }

        Assert.True(worst <= Precision, $"node {worstNode}: expected {(worstNode < 0 ? 0 : expected[worstNode])}, got {(worstNode < 0 ? 0 : actual[worstNode])} (error {worst:E2})");
        if (actual.Length > 0)
        {
            Assert.Equal(1.0, actual.Sum(), 12);
        }
    }

    /// <summary>A directed graph without self-loops or duplicates, some tools dangling, some isolated, confidences in (0.3, 1].</summary>
    private static EdgeData[] RandomGraph(int tools, int edgesPerTool, int seed)
    {
        var random = new Random(seed);
        var seen = new HashSet<(int, int)>();
        var edges = new List<EdgeData>();
        for (var from = 0; from < tools; from++)
        {
            // One tool in ten has no out-edge (dangling); a fifth of those receives none either.
            if (from % 10 == 3)
            {
                continue;
            }

            var count = random.Next(1, (2 * edgesPerTool) + 1);
            for (var k = 0; k < count; k++)
            {
                // Skewed targets, so that scores differ widely (a few hubs, a long tail).
                var to = (int)(tools * Math.Pow(random.NextDouble(), 2));
                if (to != from && to % 50 != 13 && seen.Add((from, to)))
                {
                    edges.Add(new EdgeData(from, to, 0.31 + (random.NextDouble() * 0.69), random.Next(1, 20)));
                }
            }
        }

        return [.. edges];
    }

    private static (List<string> Tools, List<List<string>> Workflows) SampleCatalog()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Pml.GraphEvents.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.FullName, "src", "Pml.GraphEvents.Server", "Catalog", "sample-catalog.json")));
        var tools = new List<string>();
        foreach (var server in document.RootElement.GetProperty("servers").EnumerateObject())
        {
            tools.AddRange(server.Value.EnumerateArray().Select(tool => $"{server.Name}:{tool.GetString()}"));
        }

        var workflows = document.RootElement.GetProperty("workflows").EnumerateArray()
            .Select(w => w.EnumerateArray().Select(t => t.GetString()!).ToList())
            .ToList();
        Assert.Equal(49, tools.Count);
        return (tools, workflows);
    }

    /// <summary>The model of DESIGN §3 solved plainly, sharing no code with the engine.</summary>
    private static class Reference
    {
        private const double D = 0.85;

        public static double[] Solve(ToolGraphSnapshot snapshot) => Solve(snapshot.Nodes.Count, Ordinals(snapshot));

        public static double[] Iterate(ToolGraphSnapshot snapshot) => Iterate(snapshot.Nodes.Count, Ordinals(snapshot));

        /// <summary>Gaussian elimination with partial pivoting on (I − d Mᵀ) x = (1 − d)/n, M with the dangling rows set to 1/n.</summary>
        public static double[] Solve(int n, EdgeData[] edges)
        {
            var weight = new double[n, n];
            var outWeight = new double[n];
            foreach (var edge in edges)
            {
                weight[edge.From, edge.To] += edge.Confidence;
                outWeight[edge.From] += edge.Confidence;
            }

            var a = new double[n, n + 1];
            for (var v = 0; v < n; v++)
            {
                a[v, v] = 1;
                for (var u = 0; u < n; u++)
                {
                    a[v, u] -= outWeight[u] > 0 ? D * weight[u, v] / outWeight[u] : D / n;
                }

                a[v, n] = (1 - D) / n;
            }

            for (var c = 0; c < n; c++)
            {
                var pivot = c;
                for (var r = c + 1; r < n; r++)
                {
                    if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c]))
                    {
                        pivot = r;
                    }
                }

                for (var k = 0; k <= n; k++)
                {
                    (a[c, k], a[pivot, k]) = (a[pivot, k], a[c, k]);
                }

                for (var r = c + 1; r < n; r++)
                {
                    var f = a[r, c] / a[c, c];
                    for (var k = c; k <= n; k++)
                    {
                        a[r, k] -= f * a[c, k];
                    }
                }
            }

            var x = new double[n];
            for (var r = n - 1; r >= 0; r--)
            {
                var s = a[r, n];
                for (var k = r + 1; k < n; k++)
                {
                    s -= a[r, k] * x[k];
                }

                x[r] = s / a[r, r];
            }

            return x;
        }

        /// <summary>Pull-style power iteration (each node sums over its in-edges) until the L1 change is below 1e-15.</summary>
        public static double[] Iterate(int n, EdgeData[] edges)
        {
            var outWeight = new double[n];
            var incoming = new List<(int From, double Weight)>[n];
            for (var v = 0; v < n; v++)
            {
                incoming[v] = [];
            }

            foreach (var edge in edges)
            {
                outWeight[edge.From] += edge.Confidence;
                incoming[edge.To].Add((edge.From, edge.Confidence));
            }

            var x = Enumerable.Repeat(1.0 / n, n).ToArray();
            var change = double.MaxValue;
            for (var iteration = 0; iteration < 10_000 && change >= 1e-15; iteration++)
            {
                var dangling = 0.0;
                for (var u = 0; u < n; u++)
                {
                    if (outWeight[u] == 0)
                    {
                        dangling += x[u];
                    }
                }

                var y = new double[n];
                change = 0;
                for (var v = 0; v < n; v++)
                {
                    var sum = 0.0;
                    foreach (var (from, weight) in incoming[v])
                    {
                        sum += x[from] * weight / outWeight[from];
                    }

                    y[v] = ((1 - D) / n) + (D * (sum + (dangling / n)));
                    change += Math.Abs(y[v] - x[v]);
                }

                x = y;
            }

            // Rounding may keep the change a few ulps above 1e-15 at 20,000 tools; 1e-13 still
            // bounds the reference's own error by 6e-13, far inside the precision asked of the engine.
            Assert.True(change < 1e-13, $"the reference did not converge: last change {change:E2}");
            return x;
        }

        private static EdgeData[] Ordinals(ToolGraphSnapshot snapshot)
        {
            var index = snapshot.Nodes.Select((node, i) => (node.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);
            return [.. snapshot.Edges.Select(e => new EdgeData(index[e.FromToolId], index[e.ToToolId], e.ConfidenceScore, e.ObservedCount))];
        }
    }
}
