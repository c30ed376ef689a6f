namespace Pml.GraphEvents.QuikGraph;

/// <summary>
/// A chain of tools, each step an edge of the graph, and how likely it is: the product of the
/// probabilities of its steps (DESIGN §9).
/// </summary>
/// <param name="ToolIds">The tools in order, from the first to the last; no tool appears twice.</param>
/// <param name="Probability">The product of the probabilities of the chain's steps, in (0, 1].</param>
public sealed record ToolChain(IReadOnlyList<string> ToolIds, double Probability);
