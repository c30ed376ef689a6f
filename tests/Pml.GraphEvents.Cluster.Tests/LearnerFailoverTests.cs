using System.Diagnostics;

namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// The learner is SIGKILLed in the middle of an ingest: another instance takes its lease within
/// the lease plus one attempt, and every execution answered 202 is learned exactly once (the new
/// learner goes on from where the last one committed; a POST retried because the killed instance
/// never answered is answered as accepted or duplicate, never learned twice).
/// </summary>
public sealed class LearnerFailoverTests
{
    private const string Status = "git:status";
    private const string Diff = "git:diff";
    private const string Commit = "git:commit";

    // Generous for a shared two-core machine; the target (lease 3 s + one attempt) is ≤ 5 s, and
    // the measured figure is printed to the test output.
    private static readonly TimeSpan FailoverBound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Killing_the_learner_during_an_ingest_elects_another_and_learns_every_accepted_execution_exactly_once()
    {
        const int executions = 60;
        const int killAt = 20;
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await ClusterServer.StartAsync(redis, 3);
        var (learner, learnerHealth) = await cluster.WaitForLearnerAsync();
        var survivors = cluster.Nodes.Where(n => n != learner).ToList();
        await using var onFirst = await StreamRecorder.OpenAsync(survivors[0]);
        await using var onSecond = await StreamRecorder.OpenAsync(survivors[1]);

        var prefix = Executions.NewPrefix();
        string Id(int i) => $"{prefix}-{i}";
        string[] Tools(int i) => i % 3 == 0 ? [Status, Diff, Commit] : [Status, Commit];

        var accepted = new List<string>();
        var retried = new HashSet<string>();
        Task? kill = null;
        var sinceKill = new Stopwatch();
        Task<TimeSpan>? failover = null;
        for (var i = 0; i < executions; i++)
        {
            if (i == killAt)
            {
                // Not awaited: the next POSTs go out while the learner dies, as a load balancer's would.
                sinceKill.Start();
                kill = ClusterServer.KillAsync(learner);
                failover = MeasureFailoverAsync(survivors, learnerHealth.InstanceId, sinceKill);
            }

            var body = Executions.Chain(Id(i), Tools(i));
            var node = cluster[i % 3];
            PostAnswer answer;
            for (var attempt = 0; ; attempt++)
            {
                answer = await ClusterServer.PostAsync(node, body);
                if (answer.IsAccepted)
                {
                    break;
                }

                // Only the killed instance may fail to answer; the client retries the same body elsewhere.
                Assert.True(node == learner && kill is not null, $"POST of {Id(i)} to {node} (not the killed learner): {answer}");
                Assert.True(attempt < 5, $"POST of {Id(i)} kept failing: {answer}");
                ClusterServer.Log($"POST of {Id(i)} to the killed {node}: {answer}; retried on {survivors[attempt % 2]}");
                retried.Add(Id(i));
                node = survivors[attempt % 2];
            }

            if (retried.Contains(Id(i)))
            {
                // It may have reached Redis before the instance died: then it is a duplicate now.
                Assert.True(answer.Accepted.Contains(Id(i)) || answer.Duplicates.Contains(Id(i)), $"retried {Id(i)}: {answer}");
            }
            else
            {
                Assert.Equal([Id(i)], answer.Accepted);
            }

            accepted.AddRange(answer.Accepted);
        }

        await kill!;
        var elapsed = await failover!;
        ClusterServer.Log($"kill -9 of the learner {learner.Name} -> a new learner reported by /healthz: {elapsed.TotalSeconds:0.00} s (retried POSTs: {retried.Count})");
        TestContext.Current.TestOutputHelper?.WriteLine($"FAILOVER kill->new learner {elapsed.TotalMilliseconds:0} ms");
        Assert.True(elapsed <= FailoverBound, $"a new learner took {elapsed.TotalSeconds:0.00} s (bound {FailoverBound.TotalSeconds} s)");
        var (newLearner, _) = await cluster.WaitForLearnerAsync(except: learnerHealth.InstanceId);
        Assert.Contains(newLearner, survivors);

        // No id accepted twice by the POSTs themselves.
        Assert.Equal(accepted.Count, accepted.Distinct().Count());

        // Every execution was answered 202 (accepted or, once retried, duplicate): each is learned once.
        var all = Enumerable.Range(0, executions).Select(Id).ToList();
        var withDiff = Enumerable.Range(0, executions).Count(i => i % 3 == 0);
        var views = await ClusterServer.WaitForSameGraphAsync(
            survivors,
            g => g.Count(Status, Commit) + g.Count(Status, Diff) >= executions,
            $"the survivors learned {executions} executions");
        Assert.Equal(executions - withDiff, views[0].Count(Status, Commit));
        Assert.Equal(withDiff, views[0].Count(Status, Diff));
        Assert.Equal(withDiff, views[0].Count(Diff, Commit));
        views[0].AssertSameAs(views[1], "GET /graph on the survivors");

        foreach (var reader in (StreamRecorder[])[onFirst, onSecond])
        {
            await Eventually.HoldsAsync(() => reader.LastId == views[0].AsOfEventId, () => $"{reader} reached {views[0].AsOfEventId} (at {reader.LastId})");
            var workflows = reader.Workflows();
            var twice = workflows.GroupBy(w => w).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(twice.Count == 0, $"{reader}: learned more than once: {string.Join(", ", twice)}");
            Assert.Equal(all.Order(StringComparer.Ordinal), workflows.Order(StringComparer.Ordinal));
            Assert.DoesNotContain(reader.Frames(), f => f.EventType == "events_lost");
            Assert.Equal(1, reader.Connections);
        }

        // Both survivors' readers got the same frames.
        Assert.Equal(
            onFirst.Frames().Where(f => f.IsShared).Select(f => (f.Id, f.EventType, f.Data)),
            onSecond.Frames().Where(f => f.IsShared).Select(f => (f.Id, f.EventType, f.Data)));
    }

    /// <summary>Polls the survivors' /healthz until one says it is the learner (another than the killed one), and returns the time since the kill.</summary>
    private static async Task<TimeSpan> MeasureFailoverAsync(IReadOnlyList<ClusterNode> survivors, string killed, Stopwatch sinceKill)
    {
        while (true)
        {
            foreach (var node in survivors)
            {
                if (await ClusterServer.TryHealthAsync(node) is { IsLearner: true } health && health.InstanceId != killed)
                {
                    return sinceKill.Elapsed;
                }
            }

            Assert.True(sinceKill.Elapsed < Eventually.Deadline, "No survivor became the learner.");
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }
}
