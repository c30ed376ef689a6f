using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>
/// The replay window and each subscriber's buffer are bounded by bytes as well as by count, so
/// that large frames (JSON escaping makes a frame up to six times its text) cannot pin memory
/// that the counts allow.
/// </summary>
public sealed class ByteBoundTests
{
    // Offsets from 10 to 99 have two digits (every epoch has the same length), and these events all
    // have the same length: after a preamble of IdStart events, every frame has the same size, so
    // how many fit a byte bound is exact.
    private const long IdStart = 9;
    private const int Bound = 1_024;

    private static readonly EventIdPrefix AnyLog = new(GraphEventId.NewEpoch());

    private static readonly int FrameLength = SseFrameEncoder.Encode(AnyLog, IdStart + 1, Fixed(0)).Length;

    // Frames that fit the byte bound, far fewer than the count bounds below.
    private static readonly int Fit = Bound / FrameLength;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_replay_window_drops_its_oldest_frames_by_bytes_and_a_resume_before_it_gets_the_exact_loss()
    {
        await using var broadcaster = (Broadcaster)GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            ReplayCapacity = 1_000,
            MaxEventBytes = Bound,
            ReplayCapacityBytes = Bound,
        });
        await PublishAsync(broadcaster, (int)IdStart);
        var published = Fit + 5;
        await PublishAsync(broadcaster, published);
        Assert.Equal(Fit * FrameLength, broadcaster.ReplayBytes);

        // From the start: the oldest five left the window by bytes, and the count says so exactly.
        using var fromStart = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(IdStart) });
        var frames = await fromStart.ReadAsync(2 + Fit);
        var lost = Assert.IsType<EventsLostEvent>(frames[1].Event);
        Assert.Equal((EventsLostReasons.ReplayWindowExceeded, (long?)5), (lost.Reason, lost.LostCount));
        Assert.Equal(5, fromStart.FramesLost);
        Assert.Equal(Ids(IdStart + 6, Fit), frames.Skip(2).Select(EventIdTesting.OffsetOf));

        // From the floor exactly, and from inside the window: a replay with nothing lost.
        foreach (var last in new[] { IdStart + 5, IdStart + 8 })
        {
            using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(last) });
            var replay = await resumed.ReadAsync(1 + published - (int)(last - IdStart));
            Assert.Equal(Ids(last + 1, published - (int)(last - IdStart)), replay.Skip(1).Select(EventIdTesting.OffsetOf));
            Assert.False(resumed.TryRead(out _));
        }

        // One older than the floor: exactly one lost.
        using var justBefore = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(IdStart + 4) });
        Assert.Equal(1, Assert.IsType<EventsLostEvent>((await justBefore.ReadAsync(2))[1].Event).LostCount);
    }

    [Fact]
    public async Task A_large_frame_pushes_out_as_many_small_ones_as_it_takes()
    {
        await using var broadcaster = (Broadcaster)GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            MaxEventBytes = 4 * Bound,
            ReplayCapacityBytes = 4 * Bound,
        });
        await PublishAsync(broadcaster, (int)IdStart);
        var small = (4 * Bound) / FrameLength;
        await PublishAsync(broadcaster, small);
        var large = new WorkflowExecutedEvent("w", [new string('x', 2 * Bound)], true, 1, SampleEvents.Timestamp);
        await broadcaster.PublishAsync(large, Ct);
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().EventsPublished == IdStart + small + 1, "the large event");

        var largeLength = SseFrameEncoder.Encode(AnyLog, IdStart + small + 1, large).Length;
        var kept = (int)((4 * Bound) - largeLength) / FrameLength;
        Assert.Equal((kept * FrameLength) + largeLength, broadcaster.ReplayBytes);
        using var fromStart = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(IdStart) });
        var frames = await fromStart.ReadAsync(2 + kept + 1);
        Assert.Equal(small - kept, Assert.IsType<EventsLostEvent>(frames[1].Event).LostCount);
        Assert.Equal(large, frames[^1].Event);
    }

    [Fact]
    public async Task Disconnect_policy_ends_a_subscriber_whose_buffer_would_pass_its_byte_bound()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            SubscriberBufferCapacity = 1_000,
            MaxEventBytes = Bound,
            SubscriberBufferCapacityBytes = Bound,
        });
        await PublishAsync(broadcaster, (int)IdStart);
        var stalled = broadcaster.Subscribe();
        using var reader = broadcaster.Subscribe();
        Assert.Single(await reader.ReadAsync(1));

        for (var i = 0; i < Fit + 3; i++)
        {
            Assert.True(broadcaster.TryPublish(Fixed(i)));

            // The reader keeps up, one frame at a time: the bound never touches it.
            Assert.Equal(broadcaster.IdAt(IdStart + i + 1), (await reader.ReadAsync(1))[0].Id);
        }

        Assert.Equal(SubscriptionEndReason.Lagging, stalled.EndReason);
        Assert.Equal(SubscriptionEndReason.None, reader.EndReason);
        Assert.Equal(1, broadcaster.GetStatistics().SubscribersEvicted);

        // What it holds is contiguous from the start, and no more than the bound.
        var buffered = await stalled.ReadToEndAsync();
        Assert.Equal(Ids(IdStart + 1, Fit), buffered.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.True(buffered.Skip(1).Sum(f => f.Utf8Bytes.Length) <= Bound);
    }

    [Fact]
    public async Task Drop_oldest_policy_drops_by_bytes_and_reports_the_exact_count()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            SubscriberBufferCapacity = 1_000,
            MaxEventBytes = 2 * Bound,
            SubscriberBufferCapacityBytes = 2 * Bound,
            SlowSubscriberPolicy = SlowSubscriberPolicy.DropOldest,
        });
        await PublishAsync(broadcaster, (int)IdStart);
        using var stalled = broadcaster.Subscribe();
        var room = (2 * Bound) / FrameLength;
        await PublishAsync(broadcaster, room + 4);
        Assert.Equal(4, stalled.FramesLost);

        // Then one large frame: it takes the room of several small ones at once.
        var large = new WorkflowExecutedEvent("w", [new string('x', Bound)], true, 1, SampleEvents.Timestamp);
        await broadcaster.PublishAsync(large, Ct);
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().EventsPublished == IdStart + room + 5, "the large event");
        var largeLength = SseFrameEncoder.Encode(AnyLog, IdStart + room + 5, large).Length;
        var kept = ((2 * Bound) - largeLength) / FrameLength;
        var dropped = 4 + (room - kept);
        Assert.Equal(dropped, stalled.FramesLost);
        Assert.Equal(dropped, broadcaster.GetStatistics().FramesDropped);

        var frames = await stalled.ReadAsync(2 + kept + 1);
        var lost = Assert.IsType<EventsLostEvent>(frames[1].Event);
        Assert.Equal((EventsLostReasons.BufferOverflow, (long?)dropped), (lost.Reason, lost.LostCount));
        Assert.Equal(Ids(IdStart + room + 5 - kept, kept + 1), frames.Skip(2).Select(EventIdTesting.OffsetOf));
        Assert.False(stalled.TryRead(out _));
    }

    [Fact]
    public async Task A_frame_larger_than_what_is_left_always_fits_an_empty_buffer()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            MaxEventBytes = Bound,
            SubscriberBufferCapacityBytes = Bound,
            ReplayCapacityBytes = Bound,
        });
        using var reader = broadcaster.Subscribe();
        Assert.Single(await reader.ReadAsync(1));
        var nearlyMax = new WorkflowExecutedEvent("w", [new string('x', Bound - 200)], true, 1, SampleEvents.Timestamp);
        for (var i = 0; i < 3; i++)
        {
            await broadcaster.PublishAsync(nearlyMax, Ct);
            Assert.Equal(nearlyMax, (await reader.ReadAsync(1))[0].Event);
        }

        Assert.Equal(SubscriptionEndReason.None, reader.EndReason);
    }

    [Theory]
    [InlineData(nameof(GraphEventsOptions.ReplayCapacityBytes))]
    [InlineData(nameof(GraphEventsOptions.SubscriberBufferCapacityBytes))]
    public void A_byte_bound_below_one_largest_event_is_refused_naming_the_option(string option)
    {
        var options = new GraphEventsOptions { MaxEventBytes = 2 * Bound };
        typeof(GraphEventsOptions).GetProperty(option)!.SetValue(options, (long)(2 * Bound) - 1);
        var error = Assert.Throws<ArgumentException>(() => GraphEventBroadcaster.Create(options));
        Assert.Contains($"GraphEvents:{option}", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:MaxEventBytes (2,048)", error.Message, StringComparison.Ordinal);

        typeof(GraphEventsOptions).GetProperty(option)!.SetValue(options, (1L << 40) + 1);
        Assert.Contains($"GraphEvents:{option}", Assert.Throws<ArgumentException>(() => GraphEventBroadcaster.Create(options)).Message, StringComparison.Ordinal);
    }

    private static EdgeCreatedEvent Fixed(int i) => new($"t{i:D3}", $"t{i + 1:D3}", 0.5, SampleEvents.Timestamp);

    private static IEnumerable<long> Ids(long first, int count) => Enumerable.Range(0, count).Select(i => first + i);

    private static async Task PublishAsync(IGraphEventBroadcaster broadcaster, int count)
    {
        var before = broadcaster.GetStatistics().EventsPublished;
        for (var i = 0; i < count; i++)
        {
            await broadcaster.PublishAsync(Fixed(i), Ct);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().EventsPublished == before + count, $"{count} events");
    }
}
