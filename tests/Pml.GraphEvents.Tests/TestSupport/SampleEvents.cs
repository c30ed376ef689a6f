namespace Pml.GraphEvents.Tests.TestSupport;

/// <summary>One fixed instance of every event type, for approved-frame tests and examples.</summary>
internal static class SampleEvents
{
    public static readonly DateTimeOffset Timestamp = new(2025, 12, 1, 10, 30, 0, 123, TimeSpan.Zero);

    public static IEnumerable<GraphEvent> All()
    {
        yield return new ConnectedEvent("5f0c3a52-8a52-4b55-9a5b-5b0f3e6a1c2d", 1, Timestamp);
        yield return new GraphSyncedEvent(42, 120, 12.5, Timestamp);
        yield return new EdgeCreatedEvent("git:status", "git:commit", 0.5, Timestamp);
        yield return new EdgeUpdatedEvent("git:status", "git:commit", 0.5, 0.55, 2, Timestamp);
        yield return new WorkflowExecutedEvent("e1", ["git:status", "git:commit"], true, 42, Timestamp);
        yield return new MetricsUpdatedEvent(2000, 200, 0.05025125628140704, [new ToolScore("git:commit", 0.125), new ToolScore("git:status", 0.0625)], 7, Timestamp);
        yield return new HeartbeatEvent(3, 30, Timestamp);
        yield return new EventsLostEvent(EventsLostReasons.ReplayWindowExceeded, 17, Timestamp);
    }

    public static EdgeCreatedEvent Edge(int i) => new($"tool:{i}", $"tool:{i + 1}", 0.5, Timestamp);
}
