using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// The shared log of executions on a real redis-server: a body is appended whole, in order, and an
/// id already appended by any instance within the window is a duplicate, not a second entry.
/// </summary>
public sealed class ExecutionLogTests
{
    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    [Fact]
    public async Task A_retry_on_another_instance_is_a_duplicate_and_the_stream_holds_each_execution_once_in_order()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var onA = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await using var onB = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var key = NewStreamKey();
        var a = new RedisExecutionLog(onA.GetDatabase(), key, 100_000, TimeSpan.FromHours(24));
        var b = new RedisExecutionLog(onB.GetDatabase(), key, 100_000, TimeSpan.FromHours(24));

        Assert.Empty(await a.AppendAsync([("e1", "{\"n\":1}"), ("e2", "{\"n\":2}")]));
        Assert.Equal(["e1", "e2"], await b.AppendAsync([("e1", "{\"n\":1}"), ("e2", "{\"n\":2}")]));
        Assert.Equal(["e3", "e1"], await b.AppendAsync([("e3", "{\"n\":3}"), ("e3", "{\"n\":3}"), ("e1", "{\"n\":1}"), ("e4", "{\"n\":4}")]));

        var entries = await onA.GetDatabase().StreamRangeAsync(a.Stream);
        Assert.Equal(["e1", "e2", "e3", "e4"], entries.Select(e => (string?)e["i"]));
        Assert.Equal("{\"n\":3}", (string?)entries[2]["d"]);
    }

    [Fact]
    public async Task The_window_forgets_the_oldest_ids_past_its_count_and_ids_older_than_its_age()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var key = NewStreamKey();
        var byCount = new RedisExecutionLog(connection.GetDatabase(), key, 2, TimeSpan.FromHours(24));
        await byCount.AppendAsync([("w1", "{}"), ("w2", "{}"), ("w3", "{}")]);
        Assert.Equal(["w3"], await byCount.AppendAsync([("w1", "{}"), ("w3", "{}")]));

        var byAge = new RedisExecutionLog(connection.GetDatabase(), NewStreamKey(), 100, TimeSpan.FromMilliseconds(100));
        await byAge.AppendAsync([("old", "{}")]);

        // Redis's clock: the id leaves the window once it is older than the age.
        await Eventually.TrueAsync(async () => (await byAge.AppendAsync([("old", "{}")])).Count == 0, "the id aged out of the window");
        Assert.Equal(2, await connection.GetDatabase().StreamLengthAsync(byAge.Stream));
    }

    [Fact]
    public async Task A_body_that_would_leave_more_than_the_pending_bound_waiting_is_refused_whole()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var log = new RedisExecutionLog(connection.GetDatabase(), NewStreamKey(), 100, TimeSpan.FromHours(24), maxPending: 3);
        Assert.Empty(await log.AppendAsync([("p1", "{}"), ("p2", "{}")]));

        // Two waiting, two more would be four: nothing of the body is appended.
        var full = await Assert.ThrowsAsync<ExecutionLogFullException>(() => log.AppendAsync([("p3", "{}"), ("p4", "{}")]));
        Assert.Contains("3", full.Message, StringComparison.Ordinal);
        Assert.Equal(2, await connection.GetDatabase().StreamLengthAsync(log.Stream));

        // One more is three: exactly the bound.
        Assert.Empty(await log.AppendAsync([("p3", "{}")], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        Assert.Equal(3, await connection.GetDatabase().StreamLengthAsync(log.Stream));
    }

    [Fact]
    public async Task A_trace_context_is_stored_with_every_entry_of_its_body_and_only_when_given()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var log = new RedisExecutionLog(connection.GetDatabase(), NewStreamKey(), 100, TimeSpan.FromHours(24));
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        await log.AppendAsync([("c1", "{}"), ("c2", "{}")], traceParent);
        await log.AppendAsync([("c3", "{}")]);

        var entries = await connection.GetDatabase().StreamRangeAsync(log.Stream);
        Assert.Equal([traceParent, traceParent, null], entries.Select(e => (string?)e[RedisClusterTracing.ContextField]));
        Assert.True(RedisClusterTracing.TryReadContext(entries[0], out var context));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", context.TraceId.ToHexString());
        Assert.True(context.IsRemote);
        Assert.False(RedisClusterTracing.TryReadContext(entries[2], out _));

        // Anyone who can write the stream can write the field: a malformed one is ignored, not trusted.
        await connection.GetDatabase().StreamAddAsync(log.Stream, [new NameValueEntry("i", "c4"), new NameValueEntry("d", "{}"), new NameValueEntry("c", "00-nothex-01")]);
        var forged = (await connection.GetDatabase().StreamRangeAsync(log.Stream))[^1];
        Assert.False(RedisClusterTracing.TryReadContext(forged, out _));
    }

    [Fact]
    public async Task A_window_of_zero_appends_every_execution()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var log = new RedisExecutionLog(connection.GetDatabase(), NewStreamKey(), 0, TimeSpan.FromHours(24));
        Assert.Empty(await log.AppendAsync([("w", "{}"), ("w", "{}")]));
        Assert.Empty(await log.AppendAsync([("w", "{}")]));
        Assert.Equal(3, await connection.GetDatabase().StreamLengthAsync(log.Stream));
    }
}
