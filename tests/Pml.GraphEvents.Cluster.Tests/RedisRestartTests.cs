namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// Redis restarted empty (no persistence) while the instances run: the shared log is lost, so a
/// new epoch begins. Clients are told (<c>events_lost</c>; a resume from an old id gets
/// <c>unknown_last_event_id</c>), every instance keeps its graph, and the next executions are
/// learned on top of it (an edge's observed_count goes on, it is not created again).
/// </summary>
public sealed class RedisRestartTests
{
    private const string From = "git:status";
    private const string To = "git:commit";

    [Fact]
    public async Task Redis_restarted_empty_starts_a_new_epoch_clients_are_told_and_learning_goes_on_from_the_kept_graph()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await ClusterServer.StartAsync(redis, 2);
        await cluster.WaitForLearnerAsync();
        await using var onA = await StreamRecorder.OpenAsync(cluster[0], reconnect: true);
        await using var onB = await StreamRecorder.OpenAsync(cluster[1], reconnect: true);
        var prefix = Executions.NewPrefix();

        for (var i = 0; i < 10; i++)
        {
            await ClusterServer.PostAcceptedAsync(cluster[i % 2], Executions.Chain($"{prefix}-{i}", From, To));
        }

        var oldId = (await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.Count(From, To) == 10, "10 executions learned"))[0].AsOfEventId!;
        await Eventually.HoldsAsync(() => onA.LastId == oldId && onB.LastId == oldId, () => $"both readers reached {oldId}");

        await redis.StopAsync(kill: true);
        await redis.StartAsync();
        ClusterServer.Log($"redis-server restarted empty (DBSIZE {redis.Command("DBSIZE")})");

        // The graph is kept while Redis is empty and while the instances notice.
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(10, (await ClusterServer.GraphAsync(node)).Count(From, To));
        }

        for (var i = 10; i < 20; i++)
        {
            var answer = await ClusterServer.PostUntilAcceptedAsync(cluster[i % 2], Executions.Chain($"{prefix}-{i}", From, To));
            Assert.Equal([$"{prefix}-{i}"], answer.Accepted);
        }

        var views = await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.Count(From, To) == 20, "20 executions learned, counts going on after the reset");
        var newId = views[0].AsOfEventId!;
        Assert.NotEqual(EventIds.Epoch(oldId), EventIds.Epoch(newId));
        views[0].AssertSameAs(views[1], "GET /graph on A vs B after the reset");

        // A client that resumes with an id of the lost log is told so, on either instance.
        await using (var resumed = await StreamRecorder.OpenAsync(cluster[1], oldId))
        {
            await Eventually.HoldsAsync(() => resumed.Frames().Count >= 2, "the resume from the old epoch received a frame after connected");
            var lost = resumed.Frames()[1];
            Assert.True(lost.EventType == "events_lost" && lost.Text("reason") == "unknown_last_event_id", $"after resuming from {oldId}: {lost}");
        }

        // The connected clients were told, and what they received afterwards continues the counts
        // (edge_updated 11..20, never an edge_created again, each count at most once).
        foreach (var reader in (StreamRecorder[])[onA, onB])
        {
            await Eventually.HoldsAsync(() => reader.LastId == newId, () => $"{reader} reached {newId} (at {reader.LastId}, {reader.Connections} connections)");
            var frames = reader.Frames();
            var lostAt = frames.FindIndex(f => f.EventType == "events_lost");
            Assert.True(lostAt >= 0, $"{reader} was not told of the reset (connections: {reader.Connections}); frames: {string.Join(" | ", frames.Select(f => f.EventType))}");
            ClusterServer.Log($"{reader}: told {frames[lostAt].Data} on connection {frames[lostAt].Connection} of {reader.Connections}");
            var after = frames.Skip(lostAt + 1)
                .Where(f => f.EventType is "edge_created" or "edge_updated" && f.Text("from_tool_id") == From && f.Text("to_tool_id") == To)
                .Select(f => (f.EventType, Count: f.Number("observed_count")))
                .ToList();
            Assert.NotEmpty(after);
            Assert.All(after, e => Assert.Equal("edge_updated", e.EventType));
            Assert.All(after, e => Assert.InRange(e.Count!.Value, 11, 20));
            Assert.Equal(after.Select(e => e.Count), after.Select(e => e.Count).Order().Distinct());
            Assert.Equal(20, after[^1].Count);
            Assert.All(frames.Where(f => f.IsShared).Skip(frames.Take(lostAt).Count(f => f.IsShared)), f => Assert.Equal(EventIds.Epoch(newId), EventIds.Epoch(f.Id)));
        }
    }
}
