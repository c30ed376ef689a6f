namespace Pml.GraphEvents;

/// <summary>
/// A learned edge: <paramref name="ToToolId"/> has run after <paramref name="FromToolId"/>. Its
/// members have the names of the edge events' (<see cref="EdgeCreatedEvent"/>, <see cref="EdgeUpdatedEvent"/>)
/// and of the wire (<c>from_tool_id</c>, <c>to_tool_id</c>, <c>confidence_score</c>, <c>observed_count</c>).
/// </summary>
/// <param name="FromToolId">The tool that ran first.</param>
/// <param name="ToToolId">The tool that depended on it.</param>
/// <param name="ConfidenceScore">The confidence score, in (0, 1].</param>
/// <param name="ObservedCount">How many times the dependency was observed.</param>
public readonly record struct ToolGraphEdge(string FromToolId, string ToToolId, double ConfidenceScore, int ObservedCount);
