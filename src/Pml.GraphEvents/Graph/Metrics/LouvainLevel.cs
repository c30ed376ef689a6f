namespace Pml.GraphEvents;

/// <summary>
/// One level of the Louvain hierarchy as compressed sparse rows, in arrays that may be longer than
/// the level (they are reused, see <see cref="LouvainWorkspace"/>): node <c>i</c>'s entries are
/// <c>Start[i]..Start[i + 1]</c> of <see cref="Neighbor"/> and <see cref="Weight"/>.
/// </summary>
internal sealed class LouvainLevel
{
    public int NodeCount { get; set; }

    public int EntryCount { get; set; }

    public int[] Start { get; private set; } = [];

    public int[] Neighbor { get; private set; } = [];

    public double[] Weight { get; private set; } = [];

    /// <summary>Weighted degree, self-loop included: the adjacency row sums.</summary>
    public double[] Degree { get; private set; } = [];

    /// <summary>2m: the sum of all degrees.</summary>
    public double TotalWeight { get; set; }

    public void EnsureCapacity(int nodeCount, int entryCount)
    {
        if (nodeCount + 1 > Start.Length)
        {
            var n = Math.Max(nodeCount, Math.Min(Array.MaxLength - 1, 2 * Degree.Length));
            Start = new int[n + 1];
            Degree = new double[n];
        }

        if (entryCount > Neighbor.Length)
        {
            var entries = Math.Max(entryCount, Math.Min(Array.MaxLength, 2 * Neighbor.Length));
            Neighbor = new int[entries];
            Weight = new double[entries];
        }
    }
}
