using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.AspNetCore;
using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// Many instances, one graph (DESIGN §7), on a real redis-server with instances in this process:
/// executions submitted on any instance are learned once, by the lease holder, and every instance
/// holds the same graph to the last bit; a late instance starts from the learner's snapshot; the
/// learner's writes are fenced; an execution the learner refuses costs itself only.
/// </summary>
public sealed class SharedGraphTests
{
    private static readonly string[] Tools = [.. Enumerable.Range(0, 10).Select(i => $"tool:{i}")];

    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    private static Task<TestHost> StartInstanceAsync(RedisServer redis, string streamKey, Action<RedisBackplaneOptions>? configure = null) =>
        TestHost.StartAsync(
            builder =>
            {
                builder.Services.AddGraphEvents()
                    .AddToolGraphEngine(o => o.AutoRegisterUnknownTools = true)
                    .AddRedisBackplane(o =>
                    {
                        o.ConnectionString = redis.ConnectionString;
                        o.StreamKey = streamKey;
                        o.PollInterval = TimeSpan.FromMilliseconds(100);
                        o.LearnerLease = TimeSpan.FromSeconds(1);
                        configure?.Invoke(o);
                    })
                    .AddRedisLearner()
                    .AddGraphEventStream();
            },
            app => app.MapGraphEventStream(TestHost.StreamPath));

    private static WorkflowExecution RandomExecution(Random random, string id)
    {
        var count = random.Next(1, 5);
        var tasks = new List<WorkflowTask>(count);
        for (var t = 0; t < count; t++)
        {
            var dependsOn = t == 0 ? [] : Enumerable.Range(0, random.Next(1, Math.Min(t, 2) + 1)).Select(_ => $"t{random.Next(t)}").ToArray();
            tasks.Add(new WorkflowTask($"t{t}", Tools[random.Next(Tools.Length)], dependsOn));
        }

        return new WorkflowExecution(id, tasks, true, random.Next(1, 500));
    }

    private static IToolGraphEngine Engine(TestHost host) => host.Services.GetRequiredService<IToolGraphEngine>();

    private static IExecutionIngest Ingest(TestHost host) => host.Services.GetRequiredService<IExecutionIngest>();

    private static void AssertSameToTheBit(ToolGraphSnapshot expected, ToolGraphSnapshot actual)
    {
        Assert.Equal(expected.AsOfEventId, actual.AsOfEventId);
        Assert.Equal(expected.Nodes, actual.Nodes);
        Assert.Equal(expected.Edges, actual.Edges);
        Assert.Equal(expected.PageRank.Select(BitConverter.DoubleToInt64Bits), actual.PageRank.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(expected.Communities, actual.Communities);
        Assert.Equal(expected.Metrics.Density, actual.Metrics.Density);
        Assert.Equal(expected.Metrics.PageRankTop10, actual.Metrics.PageRankTop10);
    }

    /// <summary>Waits until every instance's graph is as of the same event and has learned <paramref name="observations"/> edge observations.</summary>
    private static Task SettledAsync(IReadOnlyList<TestHost> hosts, long observations) =>
        Eventually.HoldsAsync(
            () =>
            {
                var first = Engine(hosts[0]).Snapshot;
                return first.Edges.Sum(e => (long)e.ObservedCount) == observations
                    && hosts.All(h => Engine(h).Snapshot.AsOfEventId == first.AsOfEventId);
            },
            () => $"every instance settled at {observations} observations; now {string.Join(", ", hosts.Select(h => $"{Engine(h).Snapshot.AsOfEventId}: {Engine(h).Snapshot.Edges.Sum(e => (long)e.ObservedCount)}"))}");

    private static long Observations(IEnumerable<WorkflowExecution> executions) =>
        executions.Sum(e => e.Tasks.Sum(t => t.DependsOn.Distinct().Count(d => e.Tasks.Single(x => x.Id == d).Tool != t.Tool)));

    [Fact]
    public async Task Executions_submitted_on_either_instance_are_learned_once_and_both_hold_the_same_graph_to_the_bit()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await StartInstanceAsync(redis, key);
        await using var b = await StartInstanceAsync(redis, key);

        var random = new Random(7);
        List<WorkflowExecution> all = [];
        for (var i = 0; i < 60; i++)
        {
            var batch = Enumerable.Range(0, random.Next(1, 4)).Select(j => RandomExecution(random, $"e{i}-{j}")).ToArray();
            all.AddRange(batch);
            var result = await Ingest(i % 2 == 0 ? a : b).SubmitAsync(batch, ct);
            Assert.Equal(batch.Select(e => e.Id), result.Accepted);
            Assert.Null(result.Snapshot);
        }

        // A retried batch, on the other instance: duplicates, not learned again.
        var retried = await Ingest(b).SubmitAsync(all.Take(3).ToArray(), ct);
        Assert.Empty(retried.Accepted);
        Assert.Equal(all.Take(3).Select(e => e.Id), retried.Duplicates);

        await SettledAsync([a, b], Observations(all));
        AssertSameToTheBit(Engine(a).Snapshot, Engine(b).Snapshot);

        // One of them learned everything; the status of both says so.
        var statusA = await a.Services.GetRequiredService<IRedisCluster>().GetStatusAsync(ct);
        var statusB = await b.Services.GetRequiredService<IRedisCluster>().GetStatusAsync(ct);
        Assert.True(statusA.RedisReachable);
        Assert.Equal(statusA.Learner, statusB.Learner);
        Assert.True(statusA.IsLearner ^ statusB.IsLearner);
        Assert.Equal(0, statusA.LearnerLag);
        Assert.Equal(Engine(a).Snapshot.AsOfEventId, statusB.AsOfEventId);
    }

    [Fact]
    public async Task A_late_instance_starts_from_the_learners_snapshot_after_the_stream_was_trimmed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        void Small(RedisBackplaneOptions o)
        {
            o.MaxLength = 40;
            o.SnapshotEveryEvents = 10;
        }

        await using var a = await StartInstanceAsync(redis, key, Small);
        var random = new Random(11);
        List<WorkflowExecution> all = [];
        for (var i = 0; i < 50; i++)
        {
            var execution = RandomExecution(random, $"e{i}");
            all.Add(execution);
            await Ingest(a).SubmitAsync([execution], ct);
        }

        await SettledAsync([a], Observations(all));
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();
        Assert.True(await db.KeyExistsAsync(key + ":snapshot"));
        var oldest = (await db.StreamRangeAsync(key, "-", "+", 1))[0].Id;
        Assert.NotEqual("0-0", oldest.ToString());

        await using var late = await StartInstanceAsync(redis, key, Small);
        await SettledAsync([a, late], Observations(all));
        AssertSameToTheBit(Engine(a).Snapshot, Engine(late).Snapshot);
        Assert.True(late.Services.GetRequiredService<RedisGraphCluster>().Replica.SnapshotsLoaded >= 1);

        // And it folds what comes next like everyone else.
        var next = RandomExecution(random, "next");
        all.Add(next);
        await Ingest(late).SubmitAsync([next], ct);
        await SettledAsync([a, late], Observations(all));
        AssertSameToTheBit(Engine(a).Snapshot, Engine(late).Snapshot);
    }

    [Fact]
    public async Task When_the_learner_stops_another_instance_learns_on_from_where_it_stopped()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        // A second dispose does nothing: the learner's host is stopped in the middle, the other at the end.
        await using var a = await StartInstanceAsync(redis, key);
        await using var b = await StartInstanceAsync(redis, key);
        var hosts = new[] { a, b };
        await Eventually.HoldsAsync(() => hosts.Any(h => h.Services.GetRequiredService<RedisGraphCluster>().Learner.IsLearner), "an instance took the lease");
        var learner = hosts.Single(h => h.Services.GetRequiredService<RedisGraphCluster>().Learner.IsLearner);
        var other = learner == a ? b : a;

        var chain = Enumerable.Range(0, 20).Select(i => WorkflowExecution.Chain($"c{i}", ["tool:a", "tool:b"])).ToArray();
        foreach (var execution in chain.Take(10))
        {
            await Ingest(other).SubmitAsync([execution], ct);
        }

        await SettledAsync([learner, other], 10);
        await learner.DisposeAsync();
        foreach (var execution in chain.Skip(10))
        {
            await Ingest(other).SubmitAsync([execution], ct);
        }

        await SettledAsync([other], 20);
        Assert.True(other.Services.GetRequiredService<RedisGraphCluster>().Learner.IsLearner);
        Assert.Equal(20, Engine(other).Snapshot.Edges.Single().ObservedCount);
    }

    [Fact]
    public async Task An_ex_learner_cannot_append_after_its_lease_passed_and_a_learner_cannot_append_on_a_stale_head()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();
        var keys = new RedisClusterKeys(NewStreamKey());
        var leaseA = new RedisLearnerLease(db, keys.Stream.ToString(), "A", TimeSpan.FromMilliseconds(200));
        var leaseB = new RedisLearnerLease(db, keys.Stream.ToString(), "B", TimeSpan.FromSeconds(30));
        var tokenA = await leaseA.TryAcquireAsync();
        Assert.NotNull(tokenA);
        long? tokenB = null;
        await Eventually.TrueAsync(async () => (tokenB = await leaseB.TryAcquireAsync()) is not null, "B took the lease once A's expired");

        RedisKey[] commitKeys = [keys.Lease, keys.Stream, keys.Head, keys.LearnedCursor, keys.LearnedCount, keys.Config, keys.Executions, keys.Epoch, keys.AppendedCount];
        RedisValue[] Args(string holder, string expectedHead) =>
            [holder, expectedHead, "1-0", 1, keys.EventsNotify.ToString(), 100, "bbbbbbbbbb", "", "metrics_updated", "{}"];

        // A woke up from a pause: the fence refuses it, nothing is written.
        var paused = (RedisResult[])(await db.ScriptEvaluateAsync(RedisGraphScripts.Commit, commitKeys, Args($"{tokenA}:A", "0-0")))!;
        Assert.Equal(0, (long)paused[0]);
        Assert.Equal(0, await db.StreamLengthAsync(keys.Stream));
        Assert.False(await db.KeyExistsAsync(keys.LearnedCursor));

        // B, on a state that is not the head's: refused too, with the head.
        var committed = (RedisResult[])(await db.ScriptEvaluateAsync(RedisGraphScripts.Commit, commitKeys, Args($"{tokenB}:B", "0-0")))!;
        Assert.Equal(1, (long)committed[0]);
        var stale = (RedisResult[])(await db.ScriptEvaluateAsync(RedisGraphScripts.Commit, commitKeys, Args($"{tokenB}:B", "0-0")))!;
        Assert.Equal(-1, (long)stale[0]);
        Assert.Equal((string?)committed[1], (string?)stale[1]);
        Assert.Equal(1, await db.StreamLengthAsync(keys.Stream));
    }

    [Fact]
    public async Task An_execution_the_learner_refuses_is_skipped_and_the_ones_after_it_are_learned()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await StartInstanceAsync(redis, key);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();

        // Appended by an instance of another version (or another bound): a dependency on no task,
        // and an entry that is not an execution at all.
        const string bad = """{"id":"bad","tasks":[{"id":"t0","tool":"x","depends_on":["nowhere"]}],"success":true,"execution_time_ms":1}""";
        await db.StreamAddAsync(key + ":executions", [new NameValueEntry("i", "bad"), new NameValueEntry("d", bad)]);
        await db.StreamAddAsync(key + ":executions", [new NameValueEntry("i", "junk"), new NameValueEntry("d", "not json")]);
        await db.StringIncrementAsync(key + ":executions:appended-count", 2);
        await Ingest(a).SubmitAsync([WorkflowExecution.Chain("good", ["tool:a", "tool:b"])], ct);

        await SettledAsync([a], 1);
        await Eventually.TrueAsync(async () => (await a.Services.GetRequiredService<IRedisCluster>().GetStatusAsync(ct)).LearnerLag == 0, "nothing left to learn");
        Assert.DoesNotContain(Engine(a).Snapshot.Nodes, n => n.Id == "x");

        // What the ingest itself would refuse never reaches the log.
        await Assert.ThrowsAsync<ArgumentException>(async () => await Ingest(a).SubmitAsync([new WorkflowExecution("bad2", [new WorkflowTask("t0", "x", ["nowhere"])], true, 1)], ct));
    }
}
