namespace Pml.GraphEvents;

/// <summary>An existing edge was observed again and its confidence raised.</summary>
/// <param name="FromToolId">The tool that ran first.</param>
/// <param name="ToToolId">The tool that depended on it.</param>
/// <param name="OldConfidence">The confidence before this observation.</param>
/// <param name="NewConfidence">The confidence after it.</param>
/// <param name="ObservedCount">How many times the edge has been observed, this one included.</param>
/// <param name="Timestamp">When the edge was updated.</param>
public sealed record EdgeUpdatedEvent(
    string FromToolId,
    string ToToolId,
    double OldConfidence,
    double NewConfidence,
    int ObservedCount,
    DateTimeOffset Timestamp)
    : GraphEvent(GraphEventTypes.EdgeUpdated, Timestamp)
{
    internal override GraphEventKind Kind => GraphEventKind.EdgeUpdated;
}
