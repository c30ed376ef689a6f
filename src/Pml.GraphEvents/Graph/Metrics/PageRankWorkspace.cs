namespace Pml.GraphEvents;

/// <summary>
/// The working arrays of one <see cref="WeightedPageRank"/> run (out-weights, dangling nodes, the
/// edges by target, the second score buffer), reused from run to run.
/// </summary>
/// <remarks>
/// PageRank runs after every change of the graph; allocated per run these were about 180 KB of
/// garbage per execution at 1,000 tools / 10,000 edges. One workspace is kept, taken and given
/// back atomically (engines in one process may compute at the same time; the loser allocates its
/// own), and its arrays grow geometrically because the graph grows an edge at a time.
/// </remarks>
internal sealed class PageRankWorkspace
{
    // Past this many edges the workspace (about 16 bytes an edge) is not kept after its run.
    private const int MaxRetainedEdges = 2 << 20;

    private static PageRankWorkspace? _cached;

    private PageRankWorkspace()
    {
    }

    public double[] OutWeight { get; private set; } = [];

    public int[] Dangling { get; private set; } = [];

    public int[] InStart { get; private set; } = [];

    public int[] Fill { get; private set; } = [];

    public int[] InFrom { get; private set; } = [];

    public double[] InShare { get; private set; } = [];

    public double[] Next { get; private set; } = [];

    /// <summary>The workspace, at least this large; <see cref="Return"/> it when done.</summary>
    public static PageRankWorkspace Rent(int nodeCount, int edgeCount)
    {
        var workspace = Interlocked.Exchange(ref _cached, null) ?? new PageRankWorkspace();
        workspace.EnsureCapacity(nodeCount, edgeCount);
        return workspace;
    }

    /// <summary>Keeps the workspace for the next run (unless it is very large).</summary>
    public static void Return(PageRankWorkspace workspace)
    {
        if (workspace.InFrom.Length <= MaxRetainedEdges)
        {
            Volatile.Write(ref _cached, workspace);
        }
    }

    private static int Grow(int length, int needed) => needed <= length ? length : Math.Max(needed, Math.Min(Array.MaxLength - 1, 2 * length));

    private void EnsureCapacity(int nodeCount, int edgeCount)
    {
        if (nodeCount > OutWeight.Length)
        {
            var n = Grow(OutWeight.Length, nodeCount);
            OutWeight = new double[n];
            Dangling = new int[n];
            InStart = new int[n + 1];
            Fill = new int[n];
            Next = new double[n];
        }

        if (edgeCount > InFrom.Length)
        {
            var edges = Grow(InFrom.Length, edgeCount);
            InFrom = new int[edges];
            InShare = new double[edges];
        }
    }
}
