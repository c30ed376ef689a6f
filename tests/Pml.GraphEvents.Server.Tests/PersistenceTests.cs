using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>The learned graph lives in the SQLite file and comes back when the server starts again.</summary>
public sealed class PersistenceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_graph_survives_a_restart()
    {
        using var database = new TempDatabase();
        int port;
        await using (var first = await RunningServer.StartAsync(database.Path))
        {
            port = first.Port;
            using var http = first.CreateClient();
            var response = await http.PostAsync(
                "executions",
                RunningServer.Json("""[{"execution_id":"e1","tool_ids":["git:status","git:diff","git:commit"]},{"execution_id":"e2","tool_ids":["git:status","git:diff"]}]"""),
                Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await using var second = await RunningServer.StartAsync(database.Path, port);
        var snapshot = second.Services.GetRequiredService<IToolGraphEngine>().Snapshot;
        Assert.Equal(2, snapshot.Edges.Count);
        Assert.True(snapshot.TryGetEdge("git:status", "git:diff", out var edge));
        Assert.Equal(2, edge.ObservedCount);
        Assert.Equal(0.55, edge.ConfidenceScore, 10);

        // Loading it was announced with graph_synced, in the same log as the first run's events (the
        // database's): a resume from the log's start replays both runs, the sync last.
        var logStart = snapshot.AsOfEventId![..snapshot.AsOfEventId!.IndexOf('-', StringComparison.Ordinal)] + "-0";
        using (var subscription = second.Services.GetRequiredService<IGraphEventBroadcaster>().Subscribe(new GraphEventSubscribeOptions { LastEventId = logStart }))
        {
            // Up to the event the snapshot is as of: the last sync in the log is this run's.
            GraphSyncedEvent? synced = null;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(Eventually.Deadline);
            await foreach (var frame in subscription.ReadAllAsync(timeout.Token))
            {
                if (frame.Event is GraphSyncedEvent found)
                {
                    synced = found;
                }

                if (frame.Id == snapshot.AsOfEventId)
                {
                    break;
                }
            }

            Assert.NotNull(synced);
            Assert.Equal((49, 2), (synced.NodeCount, synced.EdgeCount));
        }

        using var client = second.CreateClient();
        using var graph = JsonDocument.Parse(await client.GetStringAsync("graph", Token));
        Assert.Equal(2, graph.RootElement.GetProperty("metrics").GetProperty("edge_count").GetInt32());
        Assert.Equal(49, graph.RootElement.GetProperty("metrics").GetProperty("node_count").GetInt32());
    }
}
