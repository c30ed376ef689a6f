using Pml.GraphEvents.QuikGraph.Tests.TestSupport;

namespace Pml.GraphEvents.QuikGraph.Tests;

public sealed class ToolCyclesTests
{
    [Fact]
    public async Task Cycles_are_the_components_of_more_than_one_tool_largest_first_then_by_first_id()
    {
        // c → a → b → c; y ⇄ x; e ⇄ d; g → a leads into a cycle but is not in one; f has no edge.
        var snapshot = await Graphs.LearnAsync(
            ["f", "g", "y", "x", "e", "d", "c", "b", "a"],
            [("c", "a", 1), ("a", "b", 1), ("b", "c", 1), ("y", "x", 1), ("x", "y", 1), ("e", "d", 2), ("d", "e", 1), ("g", "a", 1), ("b", "x", 1)]);

        var cycles = snapshot.GetToolCycles();

        Assert.Equal([["a", "b", "c"], ["d", "e"], ["x", "y"]], cycles.Select(c => c.ToArray()).ToArray());
    }

    [Fact]
    public async Task A_graph_without_cycles_has_none()
    {
        var snapshot = await Graphs.LearnAsync(["a", "b", "c", "d"], [("a", "b", 1), ("a", "c", 1), ("b", "d", 1), ("c", "d", 1)]);

        Assert.Empty(snapshot.GetToolCycles());
        Assert.Empty(ToolGraphSnapshot.Empty.GetToolCycles());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Cycles_match_mutual_reachability_on_random_graphs(int seed)
    {
        var snapshot = await Graphs.RandomAsync(seed, size: 9, density: 0.18);
        var tools = snapshot.Nodes.Select(n => n.Id).ToArray();
        var reach = tools.ToDictionary(t => t, t => Reachable(snapshot, t));

        // Brute force: two tools share a cycle when each reaches the other.
        var expected = tools
            .Select(t => tools.Where(u => u == t || (reach[t].Contains(u) && reach[u].Contains(t))).Order(StringComparer.Ordinal).ToArray())
            .Where(c => c.Length > 1)
            .DistinctBy(c => string.Join(",", c))
            .OrderByDescending(c => c.Length)
            .ThenBy(c => c[0], StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(expected, snapshot.GetToolCycles().Select(c => c.ToArray()).ToArray());
    }

    [Fact]
    public async Task The_answer_is_computed_once_per_snapshot()
    {
        var snapshot = await Graphs.LearnAsync(["a", "b"], [("a", "b", 1), ("b", "a", 1)]);

        Assert.Same(snapshot.GetToolCycles(), snapshot.GetToolCycles());
    }

    private static HashSet<string> Reachable(ToolGraphSnapshot snapshot, string from)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([from]);
        while (pending.TryPop(out var tool))
        {
            foreach (var edge in snapshot.GetOutEdges(tool))
            {
                if (seen.Add(edge.ToToolId))
                {
                    pending.Push(edge.ToToolId);
                }
            }
        }

        return seen;
    }
}
