using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// Issue #12, item 14: the stream keeps one length, stored with it by the first instance; an
/// instance configured otherwise is warned at start and does not trim the stream for all.
/// </summary>
public sealed class StreamLengthTests
{
    [Fact]
    public async Task An_instance_with_a_smaller_MaxLength_does_not_trim_the_stream_for_all_and_is_warned()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = $"test:{Guid.NewGuid():N}";
        await using var a = await ScaleOutHost.StartAsync(redis, key, backplane: o => o.MaxLength = 1_000);
        for (var i = 0; i < 300; i++)
        {
            Assert.True(a.Broadcaster.TryPublish(Events.Edge($"a{i}")));
        }

        await Eventually.HoldsAsync(() => a.Backplane.EventsAppended == 300, () => $"300 appended (so far {a.Backplane.EventsAppended})");

        var logs = new ListLoggerProvider();
        await using var b = await ScaleOutHost.StartAsync(redis, key, backplane: o => o.MaxLength = 10, services: s => s.AddSingleton<ILoggerProvider>(logs));
        var warning = Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("MaxLength", StringComparison.Ordinal));
        Assert.Contains("1000", warning.Message.Replace(",", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("10", warning.Message, StringComparison.Ordinal);

        await b.Broadcaster.PublishAsync(Events.Edge("b"), TestContext.Current.CancellationToken);
        await Eventually.HoldsAsync(() => b.Backplane.EventsAppended == 1, "B's event appended");

        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = admin.GetDatabase();
        Assert.Equal(301, await db.StreamLengthAsync(key));
        Assert.Equal(1_000, (long)await db.HashGetAsync($"{key}:config", "maxlen"));
    }
}
