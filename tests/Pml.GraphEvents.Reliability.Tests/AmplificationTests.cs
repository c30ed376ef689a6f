using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Work an outsider can multiply: one execution whose task lists the same dependency 260,000
/// times is one observation and one edge event, not a burst that evicts every reader; an
/// execution over the edge bound changes nothing.
/// </summary>
public sealed class AmplificationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_dependency_repeated_260000_times_is_one_edge_event_and_no_reader_is_evicted()
    {
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Server:MaxBodyBytes"] = "4194304",
            ["GraphEvents:Engine:AutoRegisterUnknownTools"] = "true",
        });
        await using var reader = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal("connected", (await reader.ReadAsync()).EventType);

        var body = new StringBuilder("""{"execution_id":"amplify","dag_structure":{"tasks":[{"id":"t0","tool":"a","depends_on":[]},{"id":"t1","tool":"b","depends_on":[""");
        body.AppendJoin(',', Enumerable.Repeat("\"t0\"", 260_000)).Append("]}]}}");
        using (var response = await server.Client.PostAsync("executions", RunningServer.Json(body.ToString()), Token))
        {
            // The ingest caps depends_on at 1,000 entries: refused, naming the field, nothing learned.
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("depends_on", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }

        // The engine itself (a library user, no ingest in front) counts the repeated dependency once.
        var dependsOn = Enumerable.Repeat("t0", 260_000).ToArray();
        await Engine(server).UpdateFromExecutionAsync(
            new WorkflowExecution("amplify", [new WorkflowTask("t0", "a", []), new WorkflowTask("t1", "b", dependsOn)], true, 1),
            Token);

        // Before: 260,000 edge_updated frames after the first, and this reader ended as lagging.
        var frames = await ReadUntilAsync(reader, "workflow_executed");
        var edge = Assert.Single(frames, f => f.EventType is "edge_created" or "edge_updated");
        Assert.Equal("edge_created", edge.EventType);
        Assert.True(Engine(server).Snapshot.TryGetEdge("a", "b", out var learned));
        Assert.Equal(1, learned.ObservedCount);
        Assert.Equal(0, server.Broadcaster.GetStatistics().SubscribersEvicted);
        Assert.Equal(1, server.Broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task An_execution_over_MaxEdgesPerExecution_leaves_graph_file_and_stream_unchanged()
    {
        using var database = new TempDatabase();
        var tools = Enumerable.Range(0, 12).Select(i => $"tool-{i}").ToArray();
        await using (var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["GraphEvents:Engine:MaxEdgesPerExecution"] = "10",
            ["GraphEvents:Engine:AutoRegisterUnknownTools"] = "true",
        }, databasePath: database.Path))
        {
            await using var reader = await SseClient.OpenAsync(server.Client, server.StreamUri());
            Assert.Equal("connected", (await reader.ReadAsync()).EventType);
            var engine = Engine(server);
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("fits", tools[..11]), Token);
            await ReadUntilAsync(reader, "metrics_updated");
            var before = engine.Snapshot;
            var published = server.Broadcaster.GetStatistics().EventsPublished;

            var error = await Assert.ThrowsAsync<ArgumentException>(() => engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("over", tools), Token).AsTask());
            Assert.Contains("GraphEvents:Engine:MaxEdgesPerExecution", error.Message, StringComparison.Ordinal);
            Assert.Same(before, engine.Snapshot);
            Assert.Equal(published, server.Broadcaster.GetStatistics().EventsPublished);

            // The stream's next frame is the next real change, not anything of the refused one.
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("after", ["tool-0", "tool-11"]), Token);
            var next = await reader.ReadAsync();
            Assert.Equal("edge_created", next.EventType);
            Assert.Contains("\"to_tool_id\":\"tool-11\"", next.Data, StringComparison.Ordinal);
        }

        // The file holds the two learned executions' edges only (10 + 1): nothing of the refused one.
        await using var store = new SqliteToolGraphStore(database.Path);
        var stored = await store.LoadAsync(Token);
        Assert.Equal(11, stored.Edges.Count);
        Assert.DoesNotContain(stored.Edges, e => e.FromToolId == "tool-10" && e.ToToolId == "tool-11");
    }

    private static IToolGraphEngine Engine(TestHost server) => server.App.Services.GetRequiredService<IToolGraphEngine>();

    private static async Task<List<System.Net.ServerSentEvents.SseItem<string>>> ReadUntilAsync(SseClient reader, string eventType)
    {
        var frames = new List<System.Net.ServerSentEvents.SseItem<string>>();
        do
        {
            frames.Add(await reader.ReadAsync());
        }
        while (frames[^1].EventType != eventType);
        return frames;
    }
}
