namespace Pml.GraphEvents;

/// <summary>
/// A step between two tools as the graph predicts it (DESIGN §9): <see cref="Probability"/> is the
/// step's share of its source tool's outgoing confidence, <c>confidence(A→B) / Σ confidence(A→·)</c>,
/// the random walk PageRank uses.
/// </summary>
/// <param name="ToolId">The other tool: the one that follows (<see cref="ToolGraphSnapshot.GetNextTools"/>) or precedes (<see cref="ToolGraphSnapshot.GetPreviousTools"/>).</param>
/// <param name="Probability">The probability of the step from its source tool, in (0, 1].</param>
/// <param name="ConfidenceScore">The edge's confidence score.</param>
/// <param name="ObservedCount">How many times the edge was observed.</param>
public sealed record ToolTransition(string ToolId, double Probability, double ConfidenceScore, int ObservedCount);
