using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>
/// One event's encoded frame is bounded at publish: an event over <see cref="GraphEventsOptions.MaxEventBytes"/>
/// is refused with a message naming its type, its size and the option, and nothing of it is kept.
/// </summary>
public sealed class MaxEventBytesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The issue's reproduction: 1,000 tool ids of 256 '&lt;', each escaped to six bytes, about 1.5 MB of frame.</summary>
    private static WorkflowExecutedEvent IssueEvent() =>
        new("w", Enumerable.Repeat(new string('<', 256), 1_000).ToArray(), true, 1, SampleEvents.Timestamp);

    [Fact]
    public async Task An_event_over_the_limit_is_refused_at_publish_naming_its_type_size_and_the_option()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();
        var huge = IssueEvent();

        var error = Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(huge));
        Assert.Equal("graphEvent", error.ParamName);
        Assert.Contains("'workflow_executed'", error.Message, StringComparison.Ordinal);
        Assert.Contains("1,539,176-byte frame", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:MaxEventBytes (1,048,576 bytes)", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => broadcaster.PublishAsync(huge, Ct).AsTask());

        Assert.True(broadcaster.TryPublish(SampleEvents.Edge(1)));
        var frames = await subscription.ReadAsync(2);
        Assert.Equal((broadcaster.IdAt(1), SampleEvents.Edge(1)), (frames[1].Id, frames[1].Event));
        Assert.Equal(1, broadcaster.GetStatistics().EventsPublished);
    }

    [Fact]
    public async Task The_limit_is_exact_and_counts_the_escaped_bytes_not_the_characters()
    {
        // Short enough in characters for any count-based rule, six times longer once escaped.
        var escaped = new WorkflowExecutedEvent("w", [new string('<', 1_000)], true, 1, SampleEvents.Timestamp);
        var size = EncodedSize.Frame(escaped.EventType, SseFrameEncoder.EncodeData(escaped).Length);
        Assert.True(size > 6_000);

        await using (var exact = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxEventBytes = (int)size }))
        {
            using var subscription = exact.Subscribe();
            await exact.PublishAsync(escaped, Ct);
            var frame = (await subscription.ReadAsync(2))[1];

            // The bytes measured at publish are the ones broadcast: the same as encoding once.
            Assert.Equal(SseFrameEncoder.Encode(new EventIdPrefix(EventIdTesting.EpochOf(exact)), 1, escaped), frame.Utf8Bytes.ToArray());
            Assert.True(frame.Utf8Bytes.Length <= size);
        }

        await using var oneLess = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxEventBytes = (int)size - 1 });
        var error = Assert.Throws<ArgumentException>(() => oneLess.TryPublish(escaped));
        Assert.Contains($"{size:N0}-byte frame", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_just_under_the_default_limit_is_broadcast_once_encoded()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();
        var large = new WorkflowExecutedEvent("w", Enumerable.Repeat(new string('<', 256), 650).ToArray(), true, 1, SampleEvents.Timestamp);
        await broadcaster.PublishAsync(large, Ct);

        var frame = (await subscription.ReadAsync(2))[1];
        Assert.InRange(frame.Utf8Bytes.Length, 1_000_000, 1_048_576);
        Assert.Equal(large.ToolIds, Assert.IsType<WorkflowExecutedEvent>(GraphEventJson.Deserialize(frame.EventType, Data(frame))).ToolIds);
    }

    [Fact]
    public async Task Behind_a_sequenced_source_the_check_is_the_publishers_and_the_frame_is_delivered()
    {
        // An event read from a shared log was checked by the host that published it; every host
        // delivers it, even one with a smaller limit, so that hosts never diverge.
        await using var broadcaster = new Broadcaster(new GraphEventsOptions { MaxEventBytes = 1_024 }, TimeProvider.System);
        broadcaster.StartSequenceAfter(GraphEventId.NewEpoch(), 10);
        using var subscription = broadcaster.Subscribe();
        var big = new WorkflowExecutedEvent("w", [new string('x', 4_000)], true, 1, SampleEvents.Timestamp);
        await broadcaster.WriteSequencedAsync(11, big, Ct);
        Assert.Equal(big, (await subscription.ReadAsync(2))[1].Event);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(99_999_999L)]
    [InlineData(999_999_999L)]
    [InlineData(long.MaxValue - 1)]
    public async Task An_event_exactly_at_the_limit_is_delivered_whatever_offset_its_log_is_at(long lastOffset)
    {
        // The publish-time check counts the id line at its longest, so that whether an event fits
        // never depends on the id it gets: an id is "<epoch>-<offset>", and a durable log that has
        // been running a long while issues offsets of up to 19 digits.
        var escaped = new WorkflowExecutedEvent("w", [new string('<', 1_000)], true, 1, SampleEvents.Timestamp);
        var size = EncodedSize.Frame(escaped.EventType, SseFrameEncoder.EncodeData(escaped).Length);
        var log = new StartedLog(GraphEventId.NewEpoch(), lastOffset);
        await using var broadcaster = new Broadcaster(new GraphEventsOptions { MaxEventBytes = (int)size }, TimeProvider.System, log: log);
        using var subscription = broadcaster.Subscribe();

        Assert.True(broadcaster.TryPublish(escaped));
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics() is { EventsPublished: > 0 } or { EventsFailed: > 0 }, "the event delivered or failed");
        Assert.Equal(0, broadcaster.GetStatistics().EventsFailed);
        var frames = await subscription.ReadAsync(2);

        Assert.Equal(GraphEventId.Format(log.State.Epoch, lastOffset + 1), frames[1].Id);
        Assert.Equal(escaped, frames[1].Event);
        Assert.InRange(frames[1].Utf8Bytes.Length, 1, size);
        Assert.Equal((1L, 0L), (broadcaster.GetStatistics().EventsPublished, broadcaster.GetStatistics().EventsFailed));
        Assert.Equal(lastOffset + 1, log.State.LastOffset);
    }

    private static byte[] Data(GraphEventFrame frame)
    {
        var text = System.Text.Encoding.UTF8.GetString(frame.Utf8Bytes.Span);
        var start = text.IndexOf("data: ", StringComparison.Ordinal) + 6;
        return System.Text.Encoding.UTF8.GetBytes(text[start..text.IndexOf('\n', start)]);
    }

    /// <summary>A durable log that already holds events up to an offset: it only takes appends.</summary>
    private sealed class StartedLog(string epoch, long lastOffset) : IGraphEventLog
    {
        public EventLogState State { get; private set; } = new(epoch, lastOffset, lastOffset);

        public EventLogState Open() => State;

        public EventLogState Append(IReadOnlyList<EventLogRecord> records, IReadOnlyList<object> attachments)
        {
            if (records.Count > 0)
            {
                State = State with { LastOffset = records[^1].Offset };
            }

            return State;
        }

        public IReadOnlyList<EventLogRecord> Read(long afterOffset, long throughOffset, int maxCount) => [];

        public bool Writes(object attachment) => false;
    }
}
