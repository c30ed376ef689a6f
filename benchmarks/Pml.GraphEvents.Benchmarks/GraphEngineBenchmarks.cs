using BenchmarkDotNet.Attributes;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// One workflow execution learned, with the full metrics recompute (density, weighted PageRank,
/// Louvain) and its events published, at the sample catalog's size once the server has learned
/// for a while (49 tools, nearly every ordered pair an edge: 2,300 of 2,352), at the story's scale
/// and at five times it; PageRank alone (converged to 1e-10), from the previous state's scores as the
/// engine does and from scratch; Louvain alone; and all the metrics as the engine computes them.
/// </summary>
[MemoryDiagnoser]
public class GraphEngineBenchmarks
{
    private IGraphEventBroadcaster _broadcaster = null!;
    private IToolGraphEngine _engine = null!;
    private string[][] _chains = null!;
    private int _next;
    private EdgeData[] _pageRankEdges = null!;
    private EdgeData[][] _alternating = null!;
    private int _turn;
    private double[] _previousScores = null!;
    private System.Collections.Immutable.ImmutableArray<ToolNode> _nodes;

    [Params("49/2300", "200/2000", "1000/10000")]
    public string ToolsAndEdges { get; set; } = "200/2000";

    [GlobalSetup]
    public void Setup()
    {
        var parts = ToolsAndEdges.Split('/');
        var tools = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        var edges = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        var random = new Random(42);
        var nodes = Enumerable.Range(0, tools).Select(i => new ToolNode($"server{i % 10}:tool{i}")).ToArray();
        var seen = new HashSet<(int, int)>();
        var edgeList = new List<ToolGraphEdge>(edges);
        while (edgeList.Count < edges)
        {
            var (from, to) = (random.Next(tools), random.Next(tools));
            if (from != to && seen.Add((from, to)))
            {
                edgeList.Add(new ToolGraphEdge(nodes[from].Id, nodes[to].Id, 0.31 + (random.NextDouble() * 0.69), random.Next(1, 20)));
            }
        }

        _broadcaster = GraphEventBroadcaster.Create();
        _engine = ToolGraphEngine.Create(_broadcaster, new InMemoryToolGraphStore(nodes, edgeList));
        _engine.SyncAsync().AsTask().GetAwaiter().GetResult();
        _chains = [.. Enumerable.Range(0, 1_024).Select(_ => Enumerable.Range(0, 3).Select(_ => nodes[random.Next(tools)].Id).Distinct().ToArray())];

        // PageRank's own input: the graph after one more execution, and the scores before it.
        var before = _engine.Snapshot;
        var after = _engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("pagerank", [nodes[1].Id, nodes[2].Id, nodes[3].Id], true, 42)).AsTask().GetAwaiter().GetResult();
        _previousScores = [.. before.PageRank];
        _pageRankEdges = after.EdgeArray;
        _nodes = after.NodeArray;

        // Louvain answers an input it has just seen from memory (LouvainMemo): to measure a run,
        // alternate between the graph and the same graph with one edge observed once more.
        var bumped = (EdgeData[])_pageRankEdges.Clone();
        bumped[0] = bumped[0] with { Confidence = Math.Min(bumped[0].Confidence * 1.1, 1.0) == bumped[0].Confidence ? bumped[0].Confidence * 0.9 : Math.Min(bumped[0].Confidence * 1.1, 1.0) };
        _alternating = [_pageRankEdges, bumped];
    }

    [GlobalCleanup]
    public void Cleanup() => _broadcaster.DisposeAsync().AsTask().GetAwaiter().GetResult();

    // A new execution id every time: the engine skips an id it has learned (its duplicate window),
    // so cycling through a fixed set of executions would measure skipped duplicates once the set
    // has been seen (at 200 tools that was most of the run: 0.75 µs an "execution").
    [Benchmark]
    public async Task<ToolGraphSnapshot> UpdateFromExecution()
    {
        var next = _next++;
        return await _engine.UpdateFromExecutionAsync(WorkflowExecution.Chain($"e{next}", _chains[next & 1023], true, 42));
    }

    [Benchmark]
    public double[] PageRankWarm() => WeightedPageRank.Compute(_previousScores.Length, _pageRankEdges, _previousScores);

    [Benchmark]
    public double[] PageRankCold() => WeightedPageRank.Compute(_previousScores.Length, _pageRankEdges);

    [Benchmark]
    public int[] Louvain() => Pml.GraphEvents.Louvain.Detect(_previousScores.Length, _alternating[_turn++ & 1], 42, out _);

    [Benchmark]
    public object Metrics() => GraphMetricsCalculator.Compute(_nodes, _alternating[_turn++ & 1], 42, _previousScores);
}
