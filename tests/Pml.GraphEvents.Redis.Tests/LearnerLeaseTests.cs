using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// The learner's lease on a real redis-server: one holder at a time, a token that grows with each
/// holder, and writes fenced by it, so a paused ex-learner cannot append after its successor took over.
/// </summary>
public sealed class LearnerLeaseTests
{
    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    [Fact]
    public async Task One_instance_holds_the_lease_and_renewing_keeps_its_token()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var key = NewStreamKey();
        var a = new RedisLearnerLease(connection.GetDatabase(), key, "a", TimeSpan.FromSeconds(30));
        var b = new RedisLearnerLease(connection.GetDatabase(), key, "b", TimeSpan.FromSeconds(30));

        var token = await a.TryAcquireAsync();
        Assert.NotNull(token);
        Assert.Null(await b.TryAcquireAsync());
        Assert.Equal(token, await a.TryAcquireAsync());
        Assert.True(await a.RenewAsync(token.Value));
        Assert.False(await b.RenewAsync(token.Value));

        // A graceful stop hands over at once, with a newer token.
        await a.ReleaseAsync(token.Value);
        var next = await b.TryAcquireAsync();
        Assert.True(next > token, $"{next} after {token}");
        Assert.False(await a.RenewAsync(token.Value));
    }

    [Fact]
    public async Task A_paused_learner_past_its_lease_is_fenced_out_by_its_successor()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();
        var key = NewStreamKey();
        RedisKey events = key;
        var paused = new RedisLearnerLease(db, key, "paused", TimeSpan.FromMilliseconds(200));
        var successor = new RedisLearnerLease(db, key, "successor", TimeSpan.FromSeconds(30));

        var old = (await paused.TryAcquireAsync())!.Value;
        Assert.NotNull(await paused.AppendFencedAsync(old, events, [new NameValueEntry("e", "1")]));

        // The holder stops renewing (paused); its lease expires on Redis's clock and another takes it.
        long? taken = null;
        await Eventually.TrueAsync(async () => (taken = await successor.TryAcquireAsync()) is not null, "the successor took the expired lease");
        Assert.True(taken > old);

        // The ex-learner wakes up and writes with its old token: refused, nothing appended.
        Assert.Null(await paused.AppendFencedAsync(old, events, [new NameValueEntry("e", "stale")]));
        Assert.False(await paused.RenewAsync(old));
        Assert.NotNull(await successor.AppendFencedAsync(taken!.Value, events, [new NameValueEntry("e", "2")]));

        var entries = await db.StreamRangeAsync(events);
        Assert.Equal(["1", "2"], entries.Select(e => (string?)e["e"]));
    }

    [Fact]
    public async Task Tokens_are_never_reused_even_when_the_lease_key_is_lost()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();
        var key = NewStreamKey();
        var a = new RedisLearnerLease(db, key, "a", TimeSpan.FromSeconds(30));
        var first = (await a.TryAcquireAsync())!.Value;
        await db.KeyDeleteAsync(key + ":learner");
        var second = (await a.TryAcquireAsync())!.Value;
        Assert.True(second > first, $"{second} after {first}");
        Assert.Null(await a.AppendFencedAsync(first, key, [new NameValueEntry("e", "x")]));
    }
}
