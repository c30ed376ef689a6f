using System.Runtime.InteropServices;

namespace Pml.GraphEvents;

/// <summary>
/// The last Louvain input and its result, so that the same input is answered without running
/// Louvain again: the same tools, the same edges in the same order with the same confidences
/// (bit for bit), the same seed give the same communities, Louvain being deterministic.
/// </summary>
/// <remarks>
/// <para>
/// Why: once a server has learned for a while, most executions only observe edges already at
/// confidence 1.0 (the engine's ×1.1 ladder tops out after eight observations), which changes
/// their counts but nothing Louvain reads; the metrics still have to be recomputed after every
/// execution (PageRank starts from the previous scores and moves), but the communities are those
/// of the previous run. Checking costs one pass over the edges (about 1 ns an edge) against a
/// run's tens of nanoseconds an edge, and a miss adds a copy of the edges into reused buffers.
/// </para>
/// <para>
/// One entry, taken and put back atomically: engines in one process may compute at the same
/// time; one that finds the entry taken neither reads nor records. The result is copied out
/// (snapshots own their arrays). Edges past <see cref="MaxEdges"/> are not recorded.
/// </para>
/// </remarks>
internal sealed class LouvainMemo
{
    private const int MaxEdges = 2 << 20;

    private static LouvainMemo? _cached;

    private int _nodeCount = -1;
    private int _seed;
    private int _edgeCount;
    private EdgeKey[] _edges = [];
    private int[] _community = [];
    private int _communityCount;

    private LouvainMemo()
    {
    }

    /// <summary>The recorded result of exactly this input, copied; null if there is none.</summary>
    public static int[]? TryGet(int nodeCount, ReadOnlySpan<EdgeData> edges, int seed, out int communityCount)
    {
        communityCount = 0;
        var memo = Interlocked.Exchange(ref _cached, null);
        if (memo is null)
        {
            return null;
        }

        try
        {
            if (!memo.Matches(nodeCount, edges, seed))
            {
                return null;
            }

            communityCount = memo._communityCount;
            return memo._community.AsSpan(0, nodeCount).ToArray();
        }
        finally
        {
            Volatile.Write(ref _cached, memo);
        }
    }

    /// <summary>Records a result (the arrays are copied).</summary>
    public static void Record(int nodeCount, ReadOnlySpan<EdgeData> edges, int seed, ReadOnlySpan<int> community, int communityCount)
    {
        if (edges.Length > MaxEdges)
        {
            return;
        }

        var memo = Interlocked.Exchange(ref _cached, null) ?? new LouvainMemo();
        if (memo._edges.Length < edges.Length)
        {
            memo._edges = new EdgeKey[Math.Max(edges.Length, Math.Min(MaxEdges, 2 * memo._edges.Length))];
        }

        if (memo._community.Length < nodeCount)
        {
            memo._community = new int[Math.Max(nodeCount, 2 * memo._community.Length)];
        }

        for (var e = 0; e < edges.Length; e++)
        {
            memo._edges[e] = new EdgeKey(edges[e]);
        }

        community.CopyTo(memo._community);
        memo._nodeCount = nodeCount;
        memo._seed = seed;
        memo._edgeCount = edges.Length;
        memo._communityCount = communityCount;
        Volatile.Write(ref _cached, memo);
    }

    private bool Matches(int nodeCount, ReadOnlySpan<EdgeData> edges, int seed)
    {
        if (nodeCount != _nodeCount || seed != _seed || edges.Length != _edgeCount)
        {
            return false;
        }

        ReadOnlySpan<EdgeKey> recorded = _edges.AsSpan(0, _edgeCount);
        for (var e = 0; e < edges.Length; e++)
        {
            if (!recorded[e].Is(edges[e]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>What Louvain reads of an edge; the confidence by its bits, so that equal means identical.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct EdgeKey(EdgeData edge)
    {
        private readonly int _from = edge.From;
        private readonly int _to = edge.To;
        private readonly long _confidence = BitConverter.DoubleToInt64Bits(edge.Confidence);

        public bool Is(EdgeData edge) =>
            edge.From == _from && edge.To == _to && BitConverter.DoubleToInt64Bits(edge.Confidence) == _confidence;
    }
}
