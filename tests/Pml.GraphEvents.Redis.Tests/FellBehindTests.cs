using System.Text.Json;
using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// An instance whose reader falls behind the stream's trimming (a burst longer than the stream, read
/// too late) never resumes silently: its clients get <c>events_lost</c> with the exact count, right
/// where the hole is, then what the stream still holds.
/// </summary>
public sealed class FellBehindTests
{
    [Fact]
    public async Task Entries_trimmed_before_the_reader_got_to_them_are_announced_with_their_count_where_they_were()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = $"test:{Guid.NewGuid():N}";

        // A long poll and no notification below: the reader looks only after the burst is in.
        await using var a = await ScaleOutHost.StartAsync(redis, key, backplane: o => o.PollInterval = TimeSpan.FromSeconds(2));
        await using var client = await a.OpenAsync();
        await client.ReadAsync();
        Assert.True(a.Broadcaster.TryPublish(Events.Edge("before")));
        Assert.Equal("before", Events.FromTool(await client.ReadAsync()));

        // 50 events and an exact trim to 5, in one transaction: the reader sees all of it or none.
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var burst = admin.GetDatabase().CreateTransaction();
        for (var i = 0; i < 50; i++)
        {
            var data = JsonSerializer.Serialize(new { from_tool_id = $"burst{i}", to_tool_id = "tool:next", confidence_score = 0.5, timestamp = Events.Timestamp });
            _ = burst.StreamAddAsync(key, [new NameValueEntry("t", "edge_created"), new NameValueEntry("d", data)], maxLength: 5, useApproximateMaxLength: false);
        }

        Assert.True(await burst.ExecuteAsync());

        var lost = await client.ReadAsync();
        Assert.Equal(GraphEventTypes.EventsLost, lost.EventType);
        using (var notice = JsonDocument.Parse(lost.Data))
        {
            Assert.Equal(EventsLostReasons.ReplayWindowExceeded, notice.RootElement.GetProperty("reason").GetString());
            Assert.Equal(45, notice.RootElement.GetProperty("lost_count").GetInt64());
        }

        Assert.Equal(Enumerable.Range(45, 5).Select(i => $"burst{i}"), (await client.ReadAsync(5)).Select(Events.FromTool));

        // And then on as usual.
        Assert.True(a.Broadcaster.TryPublish(Events.Edge("after")));
        Assert.Equal("after", Events.FromTool(await client.ReadAsync()));
    }
}
