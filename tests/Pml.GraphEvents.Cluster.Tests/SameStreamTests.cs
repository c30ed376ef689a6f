namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// Two instances on one Redis are one service: executions posted to either are learned once, in
/// one order, and every instance streams the same frames under the same ids and serves the same
/// graph (DESIGN §7: one learner, replicas folded from the shared event stream).
/// </summary>
public sealed class SameStreamTests
{
    private const string From = "git:status";
    private const string To = "git:commit";

    [Fact]
    public async Task Executions_posted_alternately_to_two_instances_reach_both_readers_as_the_same_frames_and_one_graph()
    {
        const int executions = 40;
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await ClusterServer.StartAsync(redis, 2);
        await cluster.WaitForLearnerAsync();
        await using var onA = await StreamRecorder.OpenAsync(cluster[0]);
        await using var onB = await StreamRecorder.OpenAsync(cluster[1]);

        var prefix = Executions.NewPrefix();
        for (var i = 0; i < executions; i++)
        {
            var id = $"{prefix}-{i}";
            var answer = await ClusterServer.PostAcceptedAsync(cluster[i % 2], Executions.Chain(id, From, To));
            Assert.Equal([id], answer.Accepted);
            Assert.Empty(answer.Duplicates);
        }

        await Eventually.HoldsAsync(
            () => onA.Count("workflow_executed") >= executions && onB.Count("workflow_executed") >= executions,
            () => $"both readers received {executions} workflow_executed (A: {onA.Count("workflow_executed")}, B: {onB.Count("workflow_executed")})");
        var views = await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.Count(From, To) == executions, $"{From}>{To} observed {executions} times");

        // Both readers are complete up to the graphs' as_of_event_id (the last event of the last batch).
        var asOf = views[0].AsOfEventId;
        await Eventually.HoldsAsync(() => onA.LastId == asOf && onB.LastId == asOf, () => $"both readers reached {asOf} (A: {onA.LastId}, B: {onB.LastId})");

        // Same frames (id, event, data), same order. Both connected before the first POST, so both
        // hold everything from the first execution's events on.
        var a = onA.Frames().Where(f => f.IsShared).Select(f => (f.Id, f.EventType, f.Data)).ToList();
        var b = onB.Frames().Where(f => f.IsShared).Select(f => (f.Id, f.EventType, f.Data)).ToList();
        Assert.Contains(a, f => f.EventType == "edge_created");
        Assert.Equal(a, b);
        Assert.Equal(a.Select(f => EventIds.Offset(f.Id)), a.Select(f => EventIds.Offset(f.Id)).Order());
        Assert.Equal(a.Count, a.Select(f => f.Id).Distinct().Count());

        // Each execution learned once, in the order the POSTs were answered (one client, one at a time).
        Assert.Equal(Enumerable.Range(0, executions).Select(i => $"{prefix}-{i}"), onA.Workflows());

        // The edge: created once, then updated with observed_count 2..40, each once, in order.
        var edge = onA.EdgeFrames(From, To);
        List<(string Type, long? ObservedCount)> expected = [("edge_created", 1L), .. Enumerable.Range(2, executions - 1).Select(n => ("edge_updated", (long?)n))];
        Assert.Equal(expected, edge);
        Assert.Equal(edge, onB.EdgeFrames(From, To));

        // The graph: identical on both at the same as_of_event_id, and it is the last event streamed.
        views[0].AssertSameAs(views[1], "GET /graph on A vs B");
        Assert.Equal(a[^1].Id, asOf);
        Assert.Contains(a, f => f.EventType == "metrics_updated");
        Assert.Equal("metrics_updated", a[^1].EventType);
    }
}
