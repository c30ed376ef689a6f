using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>Issue #12, item 15: what the backplane leaves behind and how long it may take, bounded.</summary>
public sealed class BoundsTests
{
    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    [Fact]
    public async Task Notifications_leave_no_poll_timer_behind()
    {
        await using var redis = await RedisServer.StartNewAsync();

        // A poll interval no other timer of the host uses, long enough that a leaked one stays.
        var poll = TimeSpan.FromSeconds(47);
        var clock = new TimerCountingTimeProvider(poll);
        await using var a = await ScaleOutHost.StartAsync(redis, NewStreamKey(), backplane: o => o.PollInterval = poll, services: s => s.AddSingleton<TimeProvider>(clock));
        await using var onA = await a.OpenAsync();
        await onA.ReadAsync();

        // One at a time, each read before the next: one notification, one wait of the reader, each.
        for (var i = 0; i < 100; i++)
        {
            Assert.True(a.Broadcaster.TryPublish(Events.Edge($"e{i}")));
            Assert.Equal($"e{i}", Events.FromTool(await onA.ReadAsync()));
        }

        // The reader's current wait holds one.
        Assert.True(clock.Alive <= 1, $"{clock.Alive} poll timers alive after 100 notifications");
    }

    [Fact]
    public async Task Producer_records_expire_instead_of_piling_up_one_per_start()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        for (var start = 0; start < 3; start++)
        {
            await using var host = await ScaleOutHost.StartAsync(redis, key);
            await host.Broadcaster.PublishAsync(Events.Edge($"e{start}"), TestContext.Current.CancellationToken);
            await Eventually.HoldsAsync(() => host.Backplane.EventsAppended == 1, "the event appended");
        }

        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = admin.GetDatabase();
        var keys = admin.GetServer(admin.GetEndPoints().Single()).Keys(pattern: $"{key}:*").Select(k => k.ToString()).ToList();
        var producerKeys = keys.Where(k => k != $"{key}:config" && k != $"{key}:epoch").ToList();
        Assert.Equal(3, producerKeys.Count);
        foreach (var producer in producerKeys)
        {
            var ttl = await db.KeyTimeToLiveAsync(producer);
            Assert.True(ttl is { } t && t > TimeSpan.Zero && t <= TimeSpan.FromDays(1), $"{producer} expires in {ttl?.ToString() ?? "never"}");
        }
    }

    [Fact]
    public async Task A_resume_reads_at_most_MaxResumeEntries_from_the_stream_and_is_told_of_the_rest()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await ScaleOutHost.StartAsync(redis, key);
        await using (var onA = await a.OpenAsync())
        {
            await onA.ReadAsync();
            for (var i = 0; i < 20; i++)
            {
                Assert.True(a.Broadcaster.TryPublish(Events.Edge($"e{i}")));
            }

            var first = Events.Id((await onA.ReadAsync(20))[0]);

            // B's ring has none of them: the resume is served from the stream, bounded.
            await using var b = await ScaleOutHost.StartAsync(redis, key, backplane: o => o.MaxResumeEntries = 5);
            await using var onB = await b.OpenAsync(first);
            Assert.Equal(first, Events.Id(await onB.ReadAsync()));
            var lost = await onB.ReadAsync();
            Assert.Equal(GraphEventTypes.EventsLost, lost.EventType);
            using (var json = JsonDocument.Parse(lost.Data))
            {
                Assert.Equal(EventsLostReasons.ReplayWindowExceeded, json.RootElement.GetProperty("reason").GetString());
            }

            Assert.Equal(Enumerable.Range(15, 5).Select(i => $"e{i}"), (await onB.ReadAsync(5)).Select(Events.FromTool));
            await a.Broadcaster.PublishAsync(Events.Edge("live"), TestContext.Current.CancellationToken);
            Assert.Equal("live", Events.FromTool(await onB.ReadAsync()));
        }
    }

    [Fact]
    public void A_bad_MaxResumeEntries_or_StopTimeout_is_named()
    {
        var failures = new RedisBackplaneOptions { ConnectionString = "127.0.0.1:1", MaxResumeEntries = 0, StopTimeout = TimeSpan.FromMinutes(2) }.Validate();
        Assert.Contains(failures, f => f.StartsWith("GraphEvents:Redis:MaxResumeEntries ", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("GraphEvents:Redis:StopTimeout ", StringComparison.Ordinal));
        Assert.Empty(new RedisBackplaneOptions { ConnectionString = "127.0.0.1:1", MaxResumeEntries = 1_000_000, StopTimeout = TimeSpan.Zero }.Validate());
    }

    [Fact]
    public async Task A_container_holding_the_backplane_disposes_synchronously_and_flushes_what_was_published()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        var services = new ServiceCollection();
        services.AddGraphEvents().AddRedisBackplane(o =>
        {
            o.ConnectionString = redis.ConnectionString;
            o.StreamKey = key;
        });
        var provider = services.BuildServiceProvider();
        var broadcaster = provider.GetRequiredService<IGraphEventBroadcaster>();
        await provider.GetRequiredService<RedisBackplane>().Started.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);
        Assert.True(broadcaster.TryPublish(Events.Edge("last")));

        provider.Dispose();

        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        Assert.Equal(1, await admin.GetDatabase().StreamLengthAsync(key));
    }

    [Fact]
    public async Task A_stop_during_an_outage_takes_at_most_StopTimeout_and_logs_and_counts_what_it_discards()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var logs = new ListLoggerProvider();
        var host = await ScaleOutHost.StartAsync(redis, NewStreamKey(), services: s => s.AddSingleton<ILoggerProvider>(logs));
        await redis.StopAsync();
        for (var i = 0; i < 100; i++)
        {
            Assert.True(host.Broadcaster.TryPublish(Events.Edge($"e{i}")));
        }

        // The default StopTimeout (2 s) plus a margin for a busy machine; it took 7.3 s.
        var watch = Stopwatch.StartNew();
        await host.DisposeAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"stopping took {watch.Elapsed}");
        Assert.Equal(100, host.Backplane.EventsDiscardedAtStop);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("100", StringComparison.Ordinal) && e.Message.Contains("discarded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stop_while_Redis_was_never_up_takes_at_most_StopTimeout()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await redis.StopAsync();
        var host = await ScaleOutHost.StartAsync(redis, NewStreamKey(), backplane: o =>
        {
            o.StartTimeout = TimeSpan.Zero;
            o.StopTimeout = TimeSpan.FromMilliseconds(500);
        }, waitUntilStarted: false);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(host.Broadcaster.TryPublish(Events.Edge($"e{i}")));
        }

        var watch = Stopwatch.StartNew();
        await host.DisposeAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"stopping took {watch.Elapsed}");
        Assert.Equal(3, host.Backplane.EventsDiscardedAtStop);
    }
}
