using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>
/// One event that cannot be encoded must cost that event only: refused at publish when the
/// broadcaster can tell (naming the field), and skipped, counted and logged by the pump when it
/// cannot, with the next event delivered and disposal completing.
/// </summary>
public sealed class PoisonEventTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, GraphEvent> NonFiniteEvents() => new()
    {
        { "confidence_score", new EdgeCreatedEvent("a", "b", double.NaN, SampleEvents.Timestamp) },
        { "confidence_score", new EdgeCreatedEvent("a", "b", double.PositiveInfinity, SampleEvents.Timestamp) },
        { "old_confidence", new EdgeUpdatedEvent("a", "b", double.NegativeInfinity, 0.55, 2, SampleEvents.Timestamp) },
        { "new_confidence", new EdgeUpdatedEvent("a", "b", 0.5, double.NaN, 2, SampleEvents.Timestamp) },
        { "density", new MetricsUpdatedEvent(1, 2, double.NaN, [], 1, SampleEvents.Timestamp) },
        { "pagerank_top_10[1].score", new MetricsUpdatedEvent(1, 2, 0.5, [new ToolScore("a", 0.5), new ToolScore("b", double.PositiveInfinity)], 1, SampleEvents.Timestamp) },
        { "sync_duration_ms", new GraphSyncedEvent(1, 0, double.NaN, SampleEvents.Timestamp) },
        { "execution_time_ms", new WorkflowExecutedEvent("w", ["a"], true, double.NegativeInfinity, SampleEvents.Timestamp) },
    };

    [Theory]
    [MemberData(nameof(NonFiniteEvents))]
    public async Task A_non_finite_number_is_refused_at_publish_naming_the_field_and_the_broadcast_goes_on(string field, GraphEvent poison)
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();

        var error = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(poison));
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Contains(poison.EventType, error.Message, StringComparison.Ordinal);
        Assert.Equal("graphEvent", error.ParamName);
        var asyncError = await Assert.ThrowsAsync<ArgumentException>(() => broadcaster.PublishAsync(poison, Ct).AsTask());
        Assert.Contains(field, asyncError.Message, StringComparison.Ordinal);

        Assert.True(broadcaster.TryPublish(SampleEvents.Edge(1)));
        var frames = await subscription.ReadAsync(2);
        Assert.Equal(broadcaster.IdAt(1), frames[1].Id);
        Assert.Equal(SampleEvents.Edge(1), frames[1].Event);
        Assert.Equal(1, broadcaster.GetStatistics().EventsPublished);
        Assert.Equal(0, broadcaster.GetStatistics().EventsFailed);
    }

    [Fact]
    public async Task An_event_that_fails_in_the_pump_is_counted_logged_and_skipped_and_the_next_event_arrives()
    {
        var logs = new ListLogger();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(logs))
            .AddGraphEvents()
            .Services
            .BuildServiceProvider();
        var broadcaster = services.GetRequiredService<IGraphEventBroadcaster>();
        using var subscription = broadcaster.Subscribe();

        // Finite scores, a small bound: it passes every publish-time check, and throws only
        // when the serializer enumerates it.
        var poison = new MetricsUpdatedEvent(1, 2, 0.5, new ThrowingList<ToolScore>(new ToolScore("a", 0.5)), 1, SampleEvents.Timestamp);
        Assert.True(broadcaster.TryPublish(poison));
        Assert.True(broadcaster.TryPublish(SampleEvents.Edge(1)));
        await broadcaster.PublishAsync(SampleEvents.Edge(2), Ct);

        var frames = await subscription.ReadAsync(3);
        Assert.IsType<ConnectedEvent>(frames[0].Event);

        // The failed event took no id: the ids a client sees stay consecutive, so a resume
        // counts losses exactly.
        Assert.Equal([1L, 2], frames.Skip(1).Select(EventIdTesting.OffsetOf));
        var statistics = broadcaster.GetStatistics();
        Assert.Equal((2L, 1L, broadcaster.IdAt(2)), (statistics.EventsPublished, statistics.EventsFailed, statistics.LastEventId));
        var entry = Assert.Single(logs.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains("metrics_updated", entry.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        Assert.Equal(typeof(Broadcaster).FullName, entry.Category);

        // Disposal completes (it rethrew the pump's exception before) and ends the subscription.
        await services.DisposeAsync();
        Assert.Equal(SubscriptionEndReason.BroadcasterDisposed, subscription.EndReason);
    }

    [Fact]
    public async Task Without_a_logger_a_failing_event_is_counted_and_disposal_completes()
    {
        var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(broadcaster.TryPublish(new WorkflowExecutedEvent("w", new ThrowingList<string>("a"), true, 1, SampleEvents.Timestamp)));
        }

        Assert.True(broadcaster.TryPublish(SampleEvents.Edge(7)));
        var frames = await subscription.ReadAsync(2);
        Assert.Equal(SampleEvents.Edge(7), frames[1].Event);
        Assert.Equal(3, broadcaster.GetStatistics().EventsFailed);

        // The encoder recovered from the failures mid-event: the frame is exactly what a fresh encoder writes.
        Assert.Equal(SseFrameEncoder.Encode(new EventIdPrefix(EventIdTesting.EpochOf(broadcaster)), 1, SampleEvents.Edge(7)), frames[1].Utf8Bytes.ToArray());
        await broadcaster.DisposeAsync();
    }

    private sealed class ListLogger : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<(string Category, LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ListLogger owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((category, logLevel, formatter(state, exception), exception));
        }
    }
}
