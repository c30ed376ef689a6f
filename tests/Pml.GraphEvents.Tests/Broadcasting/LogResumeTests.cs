using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Broadcasting;

/// <summary>
/// A broadcaster over a durable event log (here an in-memory one, so that only the broadcaster's
/// part is tested): ids go on under the log's epoch, and a resume older than the ring is read from
/// the log a page at a time, then from the ring, with nothing lost, repeated or reordered.
/// </summary>
public sealed class LogResumeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ids_go_on_from_the_log_under_its_epoch_and_an_older_resume_reads_the_log_page_by_page_then_the_ring()
    {
        // More than two pages from an earlier run, then a few events of this one.
        var log = MemoryLog.WithEvents(LogReplaySource.PageSize * 2 + 88);
        var before = log.State.LastOffset;
        await using var broadcaster = new Broadcaster(new GraphEventsOptions(), TimeProvider.System, log: log);
        Assert.Equal(log.State.Epoch, broadcaster.Epoch);
        Assert.Equal(GraphEventId.Format(log.State.Epoch, before), broadcaster.GetStatistics().LastEventId);
        await PublishAsync(broadcaster, 5);
        Assert.Equal(before + 5, log.State.LastOffset);

        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(10) });
        var frames = await resumed.ReadAsync(1 + (int)(before + 5 - 10));

        Assert.Equal(broadcaster.IdAt(10), frames[0].Id);
        Assert.IsType<ConnectedEvent>(frames[0].Event);
        Assert.Equal(Offsets(11, before + 5), frames.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.All(frames.Skip(1), f => Assert.StartsWith(log.State.Epoch + "-", f.Id, StringComparison.Ordinal));
        Assert.Equal(SampleEvents.Edge(11), frames[1].Event);
        Assert.Equal(0, resumed.FramesLost);
        Assert.False(resumed.TryRead(out _));

        // Then live.
        await broadcaster.PublishAsync(SampleEvents.Edge(999), Ct);
        Assert.Equal(broadcaster.IdAt(before + 6), Assert.Single(await resumed.ReadAsync(1)).Id);
    }

    [Fact]
    public async Task A_resume_from_offset_0_of_the_log_replays_all_of_it_and_its_filter_applies_to_the_log()
    {
        var log = MemoryLog.WithEvents(300, metricsEvery: 7);
        await using var broadcaster = new Broadcaster(new GraphEventsOptions(), TimeProvider.System, log: log);

        using var all = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(0) });
        using var metrics = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(0), EventTypes = [GraphEventTypes.MetricsUpdated] });

        Assert.Equal(Offsets(1, 300), (await all.ReadAsync(301)).Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.False(all.TryRead(out _));
        var filtered = await metrics.ReadAsync(1 + (300 / 7));
        Assert.Equal(Offsets(1, 300).Where(o => o % 7 == 0), filtered.Skip(1).Select(EventIdTesting.OffsetOf));
        Assert.All(filtered.Skip(1), f => Assert.IsType<MetricsUpdatedEvent>(f.Event));
        Assert.False(metrics.TryRead(out _));
    }

    [Fact]
    public async Task A_resume_from_before_the_logs_floor_is_told_the_exact_loss_then_gets_the_rest()
    {
        var log = MemoryLog.WithEvents(400);
        log.Trim(100);
        await using var broadcaster = new Broadcaster(new GraphEventsOptions(), TimeProvider.System, log: log);

        using var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = broadcaster.IdAt(40) });
        var frames = await resumed.ReadAsync(2 + 300);

        Assert.IsType<ConnectedEvent>(frames[0].Event);
        var lost = Assert.IsType<EventsLostEvent>(frames[1].Event);
        Assert.Equal((EventsLostReasons.ReplayWindowExceeded, (long?)60), (lost.Reason, lost.LostCount));
        Assert.Null(frames[1].Id);
        Assert.Equal(Offsets(101, 400), frames.Skip(2).Select(EventIdTesting.OffsetOf));
        Assert.Equal(60, resumed.FramesLost);
        Assert.False(resumed.TryRead(out _));
    }

    [Fact]
    public async Task An_id_of_another_log_or_ahead_of_this_one_is_unknown_even_with_a_log_behind()
    {
        var log = MemoryLog.WithEvents(50);
        await using var broadcaster = new Broadcaster(new GraphEventsOptions(), TimeProvider.System, log: log);

        foreach (var id in new[] { GraphEventId.Format(GraphEventId.NewEpoch(), 10), broadcaster.IdAt(51), "10" })
        {
            using var subscription = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = id });
            var frames = await subscription.ReadAsync(2);
            Assert.Equal(broadcaster.IdAt(50), frames[0].Id);
            Assert.Equal(EventsLostReasons.UnknownLastEventId, Assert.IsType<EventsLostEvent>(frames[1].Event).Reason);
            Assert.Null(((EventsLostEvent)frames[1].Event).LostCount);
            Assert.False(subscription.TryRead(out _));
        }
    }

    [Fact]
    public async Task When_the_log_cannot_be_written_nothing_of_the_drain_is_delivered_and_the_offset_is_not_used()
    {
        var log = MemoryLog.WithEvents(3);
        await using var broadcaster = new Broadcaster(new GraphEventsOptions(), TimeProvider.System, log: log);
        using var subscription = broadcaster.Subscribe();
        Assert.Equal(broadcaster.IdAt(3), Assert.Single(await subscription.ReadAsync(1)).Id);

        // What a client sees must be replayable: an event the log did not take is not delivered.
        log.FailNextAppend = true;
        await broadcaster.PublishAsync(SampleEvents.Edge(100), Ct);
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().EventsFailed == 1, "the event failed");
        Assert.False(subscription.TryRead(out _));
        Assert.Equal(broadcaster.IdAt(3), broadcaster.GetStatistics().LastEventId);

        // The next one takes the offset the failed one did not use.
        await broadcaster.PublishAsync(SampleEvents.Edge(101), Ct);
        var next = Assert.Single(await subscription.ReadAsync(1));
        Assert.Equal((broadcaster.IdAt(4), (GraphEvent)SampleEvents.Edge(101)), (next.Id, next.Event));
        Assert.Equal(4, log.State.LastOffset);
    }

    private static IEnumerable<long> Offsets(long first, long last) => Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + i);

    private static async Task PublishAsync(Broadcaster broadcaster, int count)
    {
        var before = broadcaster.GetStatistics().EventsPublished;
        for (var i = 0; i < count; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), Ct);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().EventsPublished == before + count, $"{count} events");
    }

    /// <summary>An event log in memory: what a durable log holds from an earlier run, and what this one appends.</summary>
    private sealed class MemoryLog : IGraphEventLog
    {
        private readonly Lock _gate = new();
        private readonly List<EventLogRecord> _records = [];
        private EventLogState _state = new(GraphEventId.NewEpoch(), 0, 0);

        public EventLogState State
        {
            get
            {
                lock (_gate)
                {
                    return _state;
                }
            }
        }

        /// <summary>A log of <paramref name="count"/> events: edge_created for offset n, metrics_updated every <paramref name="metricsEvery"/>.</summary>
        public static MemoryLog WithEvents(int count, int metricsEvery = 0)
        {
            var log = new MemoryLog();
            var records = new List<EventLogRecord>();
            for (var offset = 1; offset <= count; offset++)
            {
                GraphEvent graphEvent = metricsEvery > 0 && offset % metricsEvery == 0
                    ? new MetricsUpdatedEvent(offset, 1, 0.5, [], 1, SampleEvents.Timestamp)
                    : SampleEvents.Edge(offset);
                records.Add(new EventLogRecord(offset, graphEvent.EventType, SseFrameEncoder.EncodeData(graphEvent)));
            }

            log.Append(records, []);
            return log;
        }

        /// <summary>Retention: the records up to <paramref name="floor"/> are gone.</summary>
        public void Trim(long floor)
        {
            lock (_gate)
            {
                _records.RemoveAll(r => r.Offset <= floor);
                _state = _state with { Floor = floor };
            }
        }

        public EventLogState Open() => State;

        /// <summary>Makes the next append throw, as a full disk would.</summary>
        public bool FailNextAppend { get; set; }

        public EventLogState Append(IReadOnlyList<EventLogRecord> records, IReadOnlyList<object> attachments)
        {
            lock (_gate)
            {
                if (FailNextAppend)
                {
                    FailNextAppend = false;
                    throw new ToolGraphStoreException("The disk is full.");
                }

                foreach (var record in records)
                {
                    Assert.Equal(_state.LastOffset + 1, record.Offset);

                    // Copied: the caller's memory is the frame's, which the log must not depend on.
                    _records.Add(record with { Data = record.Data.ToArray() });
                    _state = _state with { LastOffset = record.Offset };
                }

                return _state;
            }
        }

        public IReadOnlyList<EventLogRecord> Read(long afterOffset, long throughOffset, int maxCount)
        {
            lock (_gate)
            {
                return [.. _records.Where(r => r.Offset > afterOffset && r.Offset <= throughOffset).Take(maxCount)];
            }
        }

        public bool Writes(object attachment) => false;
    }
}
