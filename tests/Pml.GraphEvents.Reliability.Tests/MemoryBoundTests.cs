namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Memory is bounded by bytes, not just by counts: the issue's reproduction (600 executions of
/// 1,000 tool ids of 256 '&lt;', frames of about 1.5 MB once escaped) took the server from 114 MB
/// to 1,335 MB and kept it there, because the replay window held 1,024 such frames.
/// </summary>
public sealed class MemoryBoundTests
{
    private const int Publishes = 600;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_issues_reproduction_sizes_stay_within_the_byte_bounds_with_stalled_subscribers()
    {
        var options = new GraphEventsOptions { SlowSubscriberPolicy = SlowSubscriberPolicy.DropOldest };
        var baseline = Collect();
        await using var broadcaster = GraphEventBroadcaster.Create(options);

        // Two subscribers that never read, holding everything the bounds let them hold.
        using var stalled = broadcaster.Subscribe();
        using var alsoStalled = broadcaster.Subscribe();

        var escaped = new string('<', 256);

        // The issue's own event, 1.5 MB once escaped: refused at publish.
        Assert.Throws<ArgumentException>(() => broadcaster.TryPublish(Executed(0, Enumerable.Repeat(escaped, 1_000).ToArray())));

        // The largest that fits (650 ids, about 1.0 MB): 600 of them, each a new frame.
        var ids = Enumerable.Repeat(escaped, 650).ToArray();
        for (var i = 1; i <= Publishes; i++)
        {
            await broadcaster.PublishAsync(Executed(i, ids), Token);
        }

        await Eventually.HoldsAsync(() => broadcaster.GetStatistics().EventsPublished == Publishes, "every event broadcast");
        var held = Collect() - baseline;

        // Bound: the replay window (16 MiB) and two subscriber buffers (4 MiB each), plus slack
        // for the runtime. Before, the window alone held 600 frames: over 600 MB.
        var bound = options.ReplayCapacityBytes + (2 * options.SubscriberBufferCapacityBytes) + (32L * 1024 * 1024);
        Assert.True(held < bound, $"{held:N0} bytes held after {Publishes} frames of about 1 MB; the bound is {bound:N0}.");

        // The window is full by bytes, not by count: a resume from the first id is told that most
        // were lost, and replays only what 16 MiB of about 1 MB frames can hold.
        using (var resumed = broadcaster.Subscribe(new GraphEventSubscribeOptions { LastEventId = EventIds.At(broadcaster.GetStatistics().LastEventId, 1) }))
        {
            Assert.True(resumed.TryRead(out var connected));
            Assert.IsType<ConnectedEvent>(connected.Event);
            Assert.True(resumed.TryRead(out var notice));
            var lost = Assert.IsType<EventsLostEvent>(notice.Event);
            Assert.Equal(EventsLostReasons.ReplayWindowExceeded, lost.Reason);
            var kept = Publishes - 1 - lost.LostCount!.Value;
            Assert.InRange(kept, 1, options.ReplayCapacityBytes / 1_000_000);
        }

        // The stalled subscribers lost the oldest frames, told exactly how many.
        var perBuffer = (int)(options.SubscriberBufferCapacityBytes / 1_000_000);
        Assert.InRange(stalled.FramesLost, Publishes - perBuffer - 1, Publishes - 1);
        Assert.Equal(stalled.FramesLost, alsoStalled.FramesLost);
        GC.KeepAlive(ids);
    }

    private static WorkflowExecutedEvent Executed(int i, string[] ids) => new($"w{i}", ids, true, 1, DateTimeOffset.UtcNow);

    private static long Collect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
