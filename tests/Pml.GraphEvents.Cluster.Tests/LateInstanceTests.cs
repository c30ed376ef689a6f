namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// An instance that starts after the event stream was trimmed (MaxLength small) starts from the
/// learner's latest snapshot plus the events after it, and serves the same graph as the others;
/// it then follows the stream like them.
/// </summary>
public sealed class LateInstanceTests
{
    private static readonly string[] GitTools = ["git:status", "git:diff", "git:add", "git:commit", "git:log", "git:branch", "git:checkout", "git:push", "git:pull"];

    [Fact]
    public async Task An_instance_started_after_the_stream_was_trimmed_serves_the_same_graph_from_a_snapshot()
    {
        const int bodies = 21;
        const int perBody = 10;
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await ClusterServer.StartAsync(redis, 2, new Dictionary<string, string>
        {
            ["GraphEvents:Redis:SnapshotEveryEvents"] = "20",
            ["GraphEvents:Redis:MaxLength"] = "100",
        });
        await cluster.WaitForLearnerAsync();
        await using var witness = await StreamRecorder.OpenAsync(cluster[0]);

        // 210 executions over 72 distinct edges (each a pair of different git tools), posted to A and B in turn.
        var prefix = Executions.NewPrefix();
        var expected = new Dictionary<string, int>();
        for (var b = 0; b < bodies; b++)
        {
            var executions = new List<string>();
            for (var j = 0; j < perBody; j++)
            {
                var i = (b * perBody) + j;
                var from = GitTools[i % 9];
                var to = GitTools[(i + 1 + (i / 9 % 8)) % 9];
                executions.Add(Executions.Chain($"{prefix}-{i}", from, to));
                var key = GraphView.EdgeKey(from, to);
                expected[key] = expected.GetValueOrDefault(key) + 1;
            }

            var answer = await ClusterServer.PostAcceptedAsync(cluster[b % 2], Executions.Array(executions));
            Assert.Equal(perBody, answer.Accepted.Count);
        }

        var total = bodies * perBody;
        var before = await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.ObservedCounts.Values.Sum() == total, $"A and B learned {total} executions");
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), before[0].ObservedCounts.OrderBy(e => e.Key, StringComparer.Ordinal));
        ClusterServer.Log($"XLEN {cluster.StreamKey}: {redis.Command("XLEN", cluster.StreamKey)}; keys: {redis.Command("DBSIZE")}");

        var late = await cluster.AddNodeAsync();
        var views = await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, _ => true, "the late instance C caught up");
        views[0].AssertSameAs(views[2], "GET /graph on A vs the late C");
        views[1].AssertSameAs(views[2], "GET /graph on B vs the late C");
        Assert.Equal(before[0].AsOfEventId, views[2].AsOfEventId);

        // The stream really was trimmed: a resume on C from the very first event is told it lost some.
        var first = witness.Frames().First(f => f.IsShared).Id!;
        await using (var resumed = await StreamRecorder.OpenAsync(late, first))
        {
            await Eventually.HoldsAsync(() => resumed.Frames().Count >= 2, "the resume on C received a frame after connected");
            var lost = resumed.Frames()[1];
            Assert.True(lost.EventType == "events_lost" && lost.Text("reason") == "replay_window_exceeded", $"after resuming from the first event {first} on C: {lost}");
        }

        // C follows the stream like the others.
        await ClusterServer.PostAcceptedAsync(late, Executions.Chain($"{prefix}-late", "git:status", "git:diff"));
        var after = await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.ObservedCounts.Values.Sum() == total + 1, "one more execution, posted to C, learned everywhere");
        after[0].AssertSameAs(after[2], "GET /graph on A vs C after one more execution");
    }
}
