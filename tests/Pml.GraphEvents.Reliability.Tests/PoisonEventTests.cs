using System.Collections;
using System.Net;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// One bad event must not stop the broadcast: on the real server, a NaN is refused at publish
/// naming the field, an event that fails only when encoded is skipped, counted and logged, the
/// next event reaches a client over HTTP, and the server still stops cleanly.
/// </summary>
public sealed class PoisonEventTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_NaN_is_refused_a_failing_event_is_skipped_and_the_next_event_reaches_the_client()
    {
        var logs = new ListLoggerProvider();
        var server = await RunningServer.StartAsync(logger: logs);
        try
        {
            await using var reader = await SseClient.OpenAsync(server.Client, server.StreamUri());
            Assert.Equal("connected", (await reader.ReadAsync()).EventType);
            var broadcaster = server.Broadcaster;

            // Before: TryPublish returned true here, and nothing was ever delivered again.
            var error = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(new EdgeCreatedEvent("a", "b", double.NaN, DateTimeOffset.UtcNow)));
            Assert.Contains("confidence_score (NaN)", error.Message, StringComparison.Ordinal);

            // What no publish-time check can see: a list that throws when the serializer reads it.
            Assert.True(broadcaster.TryPublish(new WorkflowExecutedEvent("poison", new ThrowingList("a", "b"), true, 1, DateTimeOffset.UtcNow)));
            await broadcaster.PublishAsync(new EdgeCreatedEvent("after", "poison", 0.5, DateTimeOffset.UtcNow), Token);

            var next = await reader.ReadAsync();
            Assert.Equal("edge_created", next.EventType);
            Assert.Contains("\"from_tool_id\":\"after\"", next.Data, StringComparison.Ordinal);
            Assert.Equal(1, broadcaster.GetStatistics().EventsFailed);
            Assert.Contains(logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("'workflow_executed'", StringComparison.Ordinal));

            using var health = await server.Client.GetAsync("healthz", Token);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            // Before: the broadcaster's disposal rethrew the pump's exception.
            await server.DisposeAsync();
        }
    }

    private sealed class ThrowingList(params string[] items) : IReadOnlyList<string>
    {
        public int Count => items.Length;

        public string this[int index] => items[index];

        public IEnumerator<string> GetEnumerator() => throw new InvalidOperationException("This list cannot be enumerated.");

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
