namespace Pml.GraphEvents;

/// <summary>A learned edge: <paramref name="To"/> has run after <paramref name="From"/>.</summary>
/// <param name="From">The tool that ran first.</param>
/// <param name="To">The tool that depended on it.</param>
/// <param name="Confidence">The confidence score, in (0, 1].</param>
/// <param name="ObservedCount">How many times the dependency was observed.</param>
public readonly record struct ToolGraphEdge(string From, string To, double Confidence, int ObservedCount);
