namespace Pml.GraphEvents.AspNetCore.Tests.TestSupport;

/// <summary>One fixed instance of every publishable event type (heartbeats are the broadcaster's own: a test advances its clock for one).</summary>
internal static class SampleEvents
{
    public static readonly DateTimeOffset Timestamp = new(2025, 12, 1, 10, 30, 0, 123, TimeSpan.Zero);

    public static IReadOnlyList<GraphEvent> Publishable() =>
    [
        new GraphSyncedEvent(42, 120, 12.5, Timestamp),
        new EdgeCreatedEvent("git:status", "git:commit", 0.5, Timestamp),
        new EdgeUpdatedEvent("git:status", "git:commit", 0.5, 0.55, 2, Timestamp),
        new WorkflowExecutedEvent("e1", ["git:status", "git:commit"], true, 42, Timestamp),
        new MetricsUpdatedEvent(2000, 200, 0.05025125628140704, [new ToolScore("git:commit", 0.125), new ToolScore("git:status", 0.0625)], 7, Timestamp),
    ];

    public static EdgeCreatedEvent Edge(int i) => new($"tool:{i}", $"tool:{i + 1}", 0.5, Timestamp);

    /// <summary>A workflow of about <paramref name="bytes"/> bytes of JSON, to fill socket buffers quickly.</summary>
    public static WorkflowExecutedEvent Big(int i, int bytes) =>
        new($"wf-{i}", [.. Enumerable.Range(0, bytes / 32).Select(n => $"tool:{i}:{n:D20}")], true, 1, Timestamp);

    public static async Task PublishAsync(this IGraphEventBroadcaster broadcaster, IEnumerable<GraphEvent> events)
    {
        foreach (var e in events)
        {
            await broadcaster.PublishAsync(e, TestContext.Current.CancellationToken);
        }
    }
}
