using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>
/// Ids know their log: two servers started at the same moment, each on its own database, issue ids
/// the other recognises as not its own. A client moved from one to the other is told, never resumed
/// from unrelated events that happen to have the same offsets.
/// </summary>
public sealed class EventIdTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_servers_started_together_refuse_each_others_ids()
    {
        using var databaseA = new TempDatabase();
        using var databaseB = new TempDatabase();
        var started = await Task.WhenAll(RunningServer.StartAsync(databaseA.Path), RunningServer.StartAsync(databaseB.Path));
        await using var a = started[0];
        await using var b = started[1];

        // The same history on both: the same offsets, so only the epoch tells them apart.
        foreach (var server in (TestHost[])[a, b])
        {
            using var http = server.CreateClient();
            using var response = await http.PostAsync("executions", RunningServer.Json("""{"execution_id":"e1","tool_ids":["git:status","git:commit"]}"""), Token);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }

        var idOnA = a.Services.GetRequiredService<IToolGraphEngine>().Snapshot.AsOfEventId;
        var idOnB = b.Services.GetRequiredService<IToolGraphEngine>().Snapshot.AsOfEventId;
        Assert.Equal(EventIds.Offset(idOnA), EventIds.Offset(idOnB));
        Assert.NotEqual(EventIds.Epoch(idOnA), EventIds.Epoch(idOnB));

        foreach (var (server, foreign) in new[] { (b, idOnA), (a, idOnB) })
        {
            using var http = server.CreateClient();
            await using var moved = await SseClient.OpenAsync(http, new Uri(http.BaseAddress!, "events/stream"), r => r.Headers.Add("Last-Event-ID", foreign));
            var start = await moved.ReadAsync(2);
            Assert.Equal("connected", start[0].EventType);
            Assert.Equal("events_lost", start[1].EventType);
            Assert.Contains("\"reason\":\"unknown_last_event_id\",\"lost_count\":null", start[1].Data, StringComparison.Ordinal);
        }
    }
}
