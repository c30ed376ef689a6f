using System.Diagnostics;
using System.Net;

namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// Redis (with AOF persistence) stopped for 10 s while the instances run: POSTs are refused with
/// 503 and Retry-After (nothing accepted that could be lost), /healthz says degraded and Redis
/// unreachable; once Redis is back POSTs are accepted again, everything answered 202 before and
/// after is learned exactly once, and the clients, told of the outage or cut off and resumed,
/// end with the whole graph.
/// </summary>
public sealed class RedisOutageTests
{
    private const string From = "git:status";
    private const string To = "git:commit";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Redis_stopped_for_ten_seconds_refuses_posts_with_503_and_loses_and_repeats_nothing_after_it_returns()
    {
        await using var redis = await RedisServer.StartNewAsync(persistent: true);
        // Heartbeats every second: they carry the outage to the clients (degraded: true).
        await using var cluster = await ClusterServer.StartAsync(redis, 2, new Dictionary<string, string> { ["GraphEvents:HeartbeatInterval"] = "00:00:01" });
        await cluster.WaitForLearnerAsync();
        await using var onA = await StreamRecorder.OpenAsync(cluster[0], reconnect: true);
        await using var onB = await StreamRecorder.OpenAsync(cluster[1], reconnect: true);
        var prefix = Executions.NewPrefix();
        var learned = new List<string>();

        for (var i = 0; i < 10; i++)
        {
            var answer = await ClusterServer.PostAcceptedAsync(cluster[i % 2], Executions.Chain($"{prefix}-before-{i}", From, To));
            learned.AddRange(answer.Accepted);
        }

        var beforeId = (await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.Count(From, To) == 10, "10 executions learned before the outage"))[0].AsOfEventId!;
        await Eventually.HoldsAsync(() => onA.LastId == beforeId && onB.LastId == beforeId, () => $"both readers reached {beforeId}");
        var firstId = onA.Frames().First(f => f.IsShared).Id!;

        // The outage: every POST is refused (503 + Retry-After), and /healthz says so on both.
        await redis.StopAsync();
        var outage = Stopwatch.StartNew();
        var refused = new List<string>();
        var degraded = new HashSet<string>();

        // Paced (the 503s come at once now): a POST every 200 ms keeps the outage's POSTs bounded
        // (about 50), so that their retries afterwards stay within the stream's length.
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        for (var i = 0; outage.Elapsed < Outage && await pace.WaitForNextTickAsync(TestContext.Current.CancellationToken); i++)
        {
            var id = $"{prefix}-during-{i}";
            var node = cluster[i % 2];
            var posted = Stopwatch.StartNew();
            var answer = await ClusterServer.PostAsync(node, Executions.Chain(id, From, To));
            ClusterServer.Log($"POST {id} on {node.Name} during the outage: {answer} after {Executions.Elapsed(posted)}");
            Assert.True(
                answer.Status == HttpStatusCode.ServiceUnavailable && answer.RetryAfter is not null,
                $"POST during the outage ({Executions.Elapsed(outage)} in) on {node}: expected 503 with Retry-After, got {answer}");
            refused.Add(id);
            foreach (var n in cluster.Nodes)
            {
                var asked = Stopwatch.StartNew();
                var health = await ClusterServer.HealthAsync(n);
                ClusterServer.Log($"/healthz on {n.Name} during the outage, after {Executions.Elapsed(asked)}: {health.Raw}");
                if (health is { Status: "degraded", Redis: "unreachable" })
                {
                    degraded.Add(n.Name);
                }
            }
        }

        ClusterServer.Log($"outage over after {Executions.Elapsed(outage)}: {refused.Count} POSTs refused; degraded seen on {string.Join(",", degraded)}");
        Assert.Equal(["A", "B"], degraded.Order());
        await redis.StartAsync();
        var back = Stopwatch.StartNew();

        // Back: the refused executions are new to the cluster (nothing of a 503 was taken), and new ones go in.
        foreach (var (id, i) in refused.Select((id, i) => (id, i)))
        {
            var answer = await ClusterServer.PostUntilAcceptedAsync(cluster[i % 2], Executions.Chain(id, From, To));
            Assert.True(answer.Accepted.SequenceEqual([id]), $"{id} was refused with 503 during the outage, so it must be accepted now, got {answer}");
            learned.AddRange(answer.Accepted);
        }

        for (var i = 0; i < 10; i++)
        {
            var answer = await ClusterServer.PostUntilAcceptedAsync(cluster[i % 2], Executions.Chain($"{prefix}-after-{i}", From, To));
            learned.AddRange(answer.Accepted);
        }

        ClusterServer.Log($"every POST after the outage accepted {Executions.Elapsed(back)} after redis-server answered again");
        var total = learned.Count;
        var views = await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.Count(From, To) >= total, $"{total} executions learned");
        Assert.Equal(total, views[0].Count(From, To));
        views[0].AssertSameAs(views[1], "GET /graph on A vs B after the outage");
        foreach (var node in cluster.Nodes)
        {
            var health = await ClusterServer.HealthAsync(node);
            Assert.True(health is { Status: "ok", Redis: "reachable", OutageBuffer: 0 }, $"{node} after the outage: {health.Raw}");
        }

        // The stream, read again from its first event: every execution exactly once, nothing lost (AOF kept it).
        await using (var replay = await StreamRecorder.OpenAsync(cluster[1], firstId))
        {
            await Eventually.HoldsAsync(() => replay.LastId == views[0].AsOfEventId, () => $"the replay reached {views[0].AsOfEventId} (at {replay.LastId})");
            Assert.DoesNotContain(replay.Frames(), f => f.EventType == "events_lost");
            var replayed = replay.Workflows();
            // The resume point is the first execution's edge_created: its workflow_executed follows it.
            Assert.Equal(learned.Order(StringComparer.Ordinal), replayed.Order(StringComparer.Ordinal));
        }

        // The clients saw the outage (told, or cut off and resumed), then every later event, none twice.
        foreach (var reader in (StreamRecorder[])[onA, onB])
        {
            await Eventually.HoldsAsync(() => reader.LastId == views[0].AsOfEventId, () => $"{reader} reached {views[0].AsOfEventId} (at {reader.LastId}, {reader.Connections} connections)");
            var frames = reader.Frames();
            var told = frames.Where(f => f.EventType == "events_lost").Select(f => f.Data).ToList();
            ClusterServer.Log($"{reader}: {reader.Connections} connections, events_lost: {string.Join(" ", told)}");
            var workflows = reader.Workflows();
            Assert.Equal(workflows.Count, workflows.Distinct().Count());
            if (told.Count == 0)
            {
                Assert.Equal(learned.Order(StringComparer.Ordinal), workflows.Order(StringComparer.Ordinal));
            }

            var last = reader.EdgeFrames(From, To)[^1];
            Assert.Equal(total, last.ObservedCount);
        }

        // Each client saw the outage on its stream: heartbeats said degraded while Redis was away,
        // and said nothing of it once it was back.
        foreach (var reader in (StreamRecorder[])[onA, onB])
        {
            Assert.Contains(reader.Frames(), f => f.EventType == "heartbeat" && f.Data.Contains("\"degraded\":true", StringComparison.Ordinal));
            await Eventually.HoldsAsync(
                () => reader.Frames().LastOrDefault(f => f.EventType == "heartbeat") is { } last && !last.Data.Contains("degraded", StringComparison.Ordinal),
                () => $"{reader}'s heartbeats stopped saying degraded once Redis was back");
        }
    }
}
