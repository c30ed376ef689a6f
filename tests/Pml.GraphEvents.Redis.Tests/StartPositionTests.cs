using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Redis.Tests.TestSupport;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// Issue #12, item 12: a host's own events published before its reader knows where the stream
/// starts must still reach that host's subscribers (the writer waits for the reader's start).
/// </summary>
public sealed class StartPositionTests
{
    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    private static async Task<List<string>> ReadEdgesAsync(GraphEventSubscription subscription, int count)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(SseClient.Deadline);
        List<string> names = [];
        try
        {
            await foreach (var frame in subscription.ReadAllAsync(deadline.Token))
            {
                if (frame.Event is EdgeCreatedEvent edge)
                {
                    names.Add(edge.FromToolId);
                    if (names.Count == count)
                    {
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            // What arrived by the deadline is compared by the caller, which names what is missing.
        }

        return names;
    }

    [Fact]
    public async Task Events_published_as_soon_as_the_broadcaster_exists_reach_the_hosts_own_subscribers()
    {
        await using var redis = await RedisServer.StartNewAsync();

        // A few rounds, each a fresh host on a stream that already has entries: the race between
        // the first append and the reader's start is lost in most runs on the old code.
        for (var round = 0; round < 3; round++)
        {
            var key = NewStreamKey();
            await using (var first = await ScaleOutHost.StartAsync(redis, key))
            {
                await first.Broadcaster.PublishAsync(Events.Edge("older"), TestContext.Current.CancellationToken);
                await Eventually.HoldsAsync(() => first.Backplane.EventsAppended == 1, "the older event appended");
            }

            // Subscribed in process and published as soon as the broadcaster exists, as an engine
            // does at start-up: nothing gives the reader time to find its start first.
            var services = new ServiceCollection();
            services.AddGraphEvents().AddRedisBackplane(o =>
            {
                o.ConnectionString = redis.ConnectionString;
                o.StreamKey = key;
            });
            await using var provider = services.BuildServiceProvider();
            var broadcaster = provider.GetRequiredService<IGraphEventBroadcaster>();
            using var subscription = broadcaster.Subscribe();
            for (var i = 0; i < 5; i++)
            {
                Assert.True(broadcaster.TryPublish(Events.Edge($"early{i}")));
            }

            Assert.Equal(["early0", "early1", "early2", "early3", "early4"], await ReadEdgesAsync(subscription, 5));
        }
    }

    [Fact]
    public async Task Events_published_while_Redis_is_down_at_start_reach_the_hosts_own_subscribers_once_it_is_up()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await redis.StopAsync();

        await using var host = await ScaleOutHost.StartAsync(redis, key, backplane: o => o.StartTimeout = TimeSpan.Zero, waitUntilStarted: false);
        await using var client = await host.OpenAsync();
        Assert.Equal(GraphEventTypes.Connected, (await client.ReadAsync()).EventType);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(host.Broadcaster.TryPublish(Events.Edge($"early{i}")));
        }

        await redis.StartAsync();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"early{i}"), (await client.ReadAsync(5)).Select(Events.FromTool));
        Assert.True(host.Broadcaster.TryPublish(Events.Edge("later")));
        Assert.Equal("later", Events.FromTool(await client.ReadAsync()));
    }
}
