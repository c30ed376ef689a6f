using QuikGraph;

namespace Pml.GraphEvents.QuikGraph;

/// <summary>
/// One learned edge of a <see cref="ToolGraphSnapshot"/> as a QuikGraph edge: the step from
/// <see cref="Source"/> to <see cref="Target"/>, with what the engine learned about it.
/// </summary>
/// <param name="Source">The tool the step starts from.</param>
/// <param name="Target">The tool that follows it.</param>
/// <param name="ConfidenceScore">The edge's learned confidence, in (0, 1].</param>
/// <param name="ObservedCount">How many executions showed this step.</param>
/// <param name="Probability">
/// The probability of the step (DESIGN §9): <see cref="ConfidenceScore"/> over the sum of the confidences of
/// every edge out of <see cref="Source"/>, as <see cref="ToolGraphSnapshot.GetStepProbability"/> gives it.
/// </param>
public sealed record ToolStepEdge(string Source, string Target, double ConfidenceScore, int ObservedCount, double Probability) : IEdge<string>;
