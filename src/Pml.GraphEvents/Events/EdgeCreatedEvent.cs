namespace Pml.GraphEvents;

/// <summary>A new edge "<paramref name="ToToolId"/> ran after <paramref name="FromToolId"/>" was learned.</summary>
/// <param name="FromToolId">The tool that ran first.</param>
/// <param name="ToToolId">The tool that depended on it.</param>
/// <param name="ConfidenceScore">The new edge's confidence, in (0, 1].</param>
/// <param name="Timestamp">When the edge was learned.</param>
public sealed record EdgeCreatedEvent(string FromToolId, string ToToolId, double ConfidenceScore, DateTimeOffset Timestamp)
    : GraphEvent(GraphEventTypes.EdgeCreated, Timestamp)
{
    internal override GraphEventKind Kind => GraphEventKind.EdgeCreated;
}
