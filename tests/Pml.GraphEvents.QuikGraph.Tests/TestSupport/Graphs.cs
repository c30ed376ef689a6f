namespace Pml.GraphEvents.QuikGraph.Tests.TestSupport;

/// <summary>Snapshots learned by the real engine from executions, and brute-force answers on them.</summary>
internal static class Graphs
{
    /// <summary>
    /// A snapshot whose edges are learned from two-tool chains: edge (a, b, n) is seen in n executions,
    /// so its confidence is 0.5 × 1.1^(n − 1) (capped at 1 from n = 9). Every tool in
    /// <paramref name="tools"/> is registered, with or without edges.
    /// </summary>
    public static async Task<ToolGraphSnapshot> LearnAsync(IEnumerable<string> tools, IEnumerable<(string From, string To, int Times)> edges)
    {
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        await engine.RegisterToolsAsync(tools.Select(id => new ToolNode(id)), TestContext.Current.CancellationToken);
        var executions = new List<WorkflowExecution>();
        foreach (var (from, to, times) in edges)
        {
            for (var time = 0; time < times; time++)
            {
                executions.Add(WorkflowExecution.Chain($"{from}->{to}#{time}", [from, to]));
            }
        }

        return executions.Count == 0
            ? engine.Snapshot
            : (await engine.UpdateFromExecutionsAsync(executions, TestContext.Current.CancellationToken)).Snapshot;
    }

    /// <summary>A random directed graph on <paramref name="size"/> tools t0..tn, with cycles, each edge seen 1 to 8 times.</summary>
    public static Task<ToolGraphSnapshot> RandomAsync(int seed, int size, double density)
    {
        var random = new Random(seed);
        var tools = Enumerable.Range(0, size).Select(i => $"t{i}").ToArray();
        var edges = new List<(string, string, int)>();
        foreach (var from in tools)
        {
            foreach (var to in tools)
            {
                if (from != to && random.NextDouble() < density)
                {
                    edges.Add((from, to, random.Next(1, 9)));
                }
            }
        }

        // Learned in a shuffled order, so edge order is not tool order.
        return LearnAsync(tools, edges.OrderBy(_ => random.Next()));
    }

    /// <summary>Every simple chain from <paramref name="from"/> to <paramref name="to"/> with its product of step probabilities, most probable first.</summary>
    public static List<ToolChain> AllChains(ToolGraphSnapshot snapshot, string from, string to)
    {
        var chains = new List<ToolChain>();
        var path = new List<string> { from };
        void Walk(string tool, double probability)
        {
            foreach (var edge in snapshot.GetOutEdges(tool))
            {
                if (path.Contains(edge.ToToolId))
                {
                    continue;
                }

                path.Add(edge.ToToolId);
                var p = probability * snapshot.GetStepProbability(tool, edge.ToToolId);
                if (edge.ToToolId == to)
                {
                    chains.Add(new ToolChain([.. path], p));
                }
                else
                {
                    Walk(edge.ToToolId, p);
                }

                path.RemoveAt(path.Count - 1);
            }
        }

        Walk(from, 1.0);
        return [.. chains.OrderByDescending(c => c.Probability)];
    }
}
