using System.Collections.ObjectModel;
using System.Runtime.CompilerServices;
using QuikGraph.Algorithms.ConnectedComponents;

namespace Pml.GraphEvents.QuikGraph;

/// <summary>
/// The tools that lead back to each other: the strongly connected components of the graph with more
/// than one tool (QuikGraph's <see cref="StronglyConnectedComponentsAlgorithm{TVertex, TEdge}"/>).
/// </summary>
internal static class ToolCycles
{
    // Computed once per snapshot and dropped with it; the lists are read-only, so sharing them is safe.
    private static readonly ConditionalWeakTable<ToolGraphSnapshot, ReadOnlyCollection<IReadOnlyList<string>>> Cache = new();

    public static IReadOnlyList<IReadOnlyList<string>> Find(ToolGraphSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return Cache.GetValue(snapshot, static s => Compute(SnapshotGraph.For(s)));
    }

    private static ReadOnlyCollection<IReadOnlyList<string>> Compute(SnapshotGraph graph)
    {
        var algorithm = new StronglyConnectedComponentsAlgorithm<string, ToolStepEdge>(graph);
        algorithm.Compute();
        IReadOnlyList<string>[] cycles =
        [
            .. algorithm.Components
                .GroupBy(c => c.Value, c => c.Key)
                .Where(component => component.Count() > 1)
                .Select(component => component.Order(StringComparer.Ordinal).ToArray().AsReadOnly())
                .OrderByDescending(component => component.Count)
                .ThenBy(component => component[0], StringComparer.Ordinal),
        ];
        return cycles.AsReadOnly();
    }
}
