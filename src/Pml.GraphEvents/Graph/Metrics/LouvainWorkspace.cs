namespace Pml.GraphEvents;

/// <summary>
/// The working arrays of one <see cref="Louvain"/> run: two levels of compressed sparse rows (the
/// one being moved and the one being aggregated into), the moving phase's per-node state and its
/// cache of each node's neighbouring communities. Reused from run to run.
/// </summary>
/// <remarks>
/// Louvain runs after every change of the graph. Allocating these per run made about 600 KB of
/// garbage per execution at 1,000 tools / 10,000 edges, the weight rows on the large object
/// heap, so every few executions cost a gen 2 collection. One workspace is kept (see
/// <see cref="Rent"/>); arrays grow geometrically, because the graph grows an edge at a time and
/// an exact fit would be reallocated on nearly every run.
/// </remarks>
internal sealed class LouvainWorkspace
{
    // A workspace this large (entries = twice the edges) is not kept once its run is over: a huge
    // one-off graph should not pin its buffers for the life of the process. 4M entries is 2M edges,
    // far past the tool graphs the engine is sized for, and about 100 MB of buffers.
    private const int MaxRetainedEntries = 4 << 20;

    private static LouvainWorkspace? _cached;

    private LouvainWorkspace()
    {
    }

    /// <summary>The level being moved.</summary>
    public LouvainLevel Current { get; private set; } = new();

    /// <summary>The level the current one aggregates into.</summary>
    public LouvainLevel Next { get; private set; } = new();

    public int[] Community { get; private set; } = [];

    public double[] Total { get; private set; } = [];

    public int[] Size { get; private set; } = [];

    public int[] Order { get; private set; } = [];

    public double[] WeightTo { get; private set; } = [];

    public int[] Touched { get; private set; } = [];

    /// <summary>Per node: a neighbour moved since its list of neighbouring communities was counted (see <see cref="CachedCount"/>).</summary>
    public bool[] Dirty { get; private set; } = [];

    /// <summary>Per node: the community it was in when <see cref="CachedOwn"/> and <see cref="CachedMaxOther"/> were worked out.</summary>
    public int[] CachedFor { get; private set; } = [];

    /// <summary>Per node: how many communities it had among its neighbours when last visited.</summary>
    public int[] CachedCount { get; private set; } = [];

    /// <summary>Per node: the weight from it to its own community when last visited.</summary>
    public double[] CachedOwn { get; private set; } = [];

    /// <summary>Per node: the largest weight from it to another community when last visited.</summary>
    public double[] CachedMaxOther { get; private set; } = [];

    /// <summary>Per entry of a node's row: its neighbouring communities in first-seen order, from the row start.</summary>
    public int[] CachedCommunity { get; private set; } = [];

    /// <summary>Per entry: the weight to <see cref="CachedCommunity"/>, summed in row order.</summary>
    public double[] CachedWeight { get; private set; } = [];

    /// <summary>Labels to first-appearance numbers, and the aggregation's member rows.</summary>
    public int[] Map { get; private set; } = [];

    public int[] MemberStart { get; private set; } = [];

    public int[] Members { get; private set; } = [];

    /// <summary>The workspace, at least this large; <see cref="Return"/> it when done.</summary>
    public static LouvainWorkspace Rent(int nodeCount, int entryCount)
    {
        // One cached instance taken atomically: engines call this under their own writer lock,
        // but several engines in one process may run at once; the loser allocates its own.
        var workspace = Interlocked.Exchange(ref _cached, null) ?? new LouvainWorkspace();
        workspace.EnsureCapacity(nodeCount, entryCount);
        return workspace;
    }

    /// <summary>Keeps the workspace for the next run (unless it is very large).</summary>
    public static void Return(LouvainWorkspace workspace)
    {
        if (workspace.CachedCommunity.Length <= MaxRetainedEntries)
        {
            Volatile.Write(ref _cached, workspace);
        }
    }

    /// <summary>Swaps <see cref="Current"/> and <see cref="Next"/> once <see cref="Next"/> is built.</summary>
    public void Advance() => (Current, Next) = (Next, Current);

    private static int Grow(int length, int needed) => needed <= length ? length : Math.Max(needed, Math.Min(Array.MaxLength, 2 * length));

    private void EnsureCapacity(int nodeCount, int entryCount)
    {
        if (nodeCount > Community.Length)
        {
            var n = Grow(Community.Length, nodeCount);
            Community = new int[n];
            Total = new double[n];
            Size = new int[n];
            Order = new int[n];
            WeightTo = new double[n];
            Touched = new int[n];
            Dirty = new bool[n];
            CachedFor = new int[n];
            CachedCount = new int[n];
            CachedOwn = new double[n];
            CachedMaxOther = new double[n];
            Map = new int[n];
            MemberStart = new int[n + 1];
            Members = new int[n];
        }

        if (entryCount > CachedCommunity.Length)
        {
            var entries = Grow(CachedCommunity.Length, entryCount);
            CachedCommunity = new int[entries];
            CachedWeight = new double[entries];
        }

        Current.EnsureCapacity(nodeCount, entryCount);
        Next.EnsureCapacity(nodeCount, entryCount);
    }
}
