using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// The server's event log is in its database, in the same transaction as the graph: a client that
/// left before a restart (SIGTERM, or SIGKILL of the process) comes back with its Last-Event-ID and
/// gets exactly the frames it missed, then live events; every execution answered 202 is in the
/// graph once, and a retried POST is answered as duplicates. The real server, as its own process.
/// </summary>
public sealed class DurableRestartTests
{
    private const string FirstBody = """
        [{"execution_id":"a1","tool_ids":["git:status","git:diff","git:commit"]},
         {"execution_id":"a2","tool_ids":["git:status","git:diff"]},
         {"execution_id":"a3","tool_ids":["git:diff","git:commit"]}]
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("SIGTERM")]
    [InlineData("SIGKILL")]
    public async Task A_reader_that_left_gets_exactly_what_it_missed_after_the_server_restarts_on_the_same_database(string stop)
    {
        using var database = new TempDatabase();
        using var http = new HttpClient();
        string leftAt;
        List<ReceivedFrame> missed;
        var first = await ChildServer.StartOnAsync(database.Path);
        try
        {
            // The witness stays to the end and sees everything the reader misses.
            await using var witness = await RecordingStream.OpenAsync(http, Stream(first));
            await using (var reader = await RecordingStream.OpenAsync(http, Stream(first)))
            {
                var answer = await PostAsync(http, first, FirstBody);
                Assert.Equal(["a1", "a2", "a3"], Strings(answer, "accepted"));
                await Eventually.HoldsAsync(() => reader.CountFrames("metrics_updated") >= 1, "the reader received the first batch");
                leftAt = reader.Frames().Last(f => f.Id is not null).Id!;
            }

            for (var i = 0; i < 10; i++)
            {
                var answer = await PostAsync(http, first, $$"""{"execution_id":"b{{i}}","tool_ids":["git:status","git:commit"]}""");
                Assert.Equal([$"b{i}"], Strings(answer, "accepted"));
            }

            await Eventually.HoldsAsync(() => witness.CountFrames("workflow_executed") == 13, "the witness received all 13 executions");
            missed = [.. witness.Frames().SkipWhile(f => f.Id != leftAt).Skip(1).Where(f => f.Id is not null)];
            Assert.Equal(30, missed.Count); // each of b0..b9: edge, workflow_executed, metrics_updated

            if (stop == "SIGTERM")
            {
                Assert.Equal(0, await first.TerminateAsync());
            }
            else
            {
                await first.KillAsync();
            }
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using (var second = await ChildServer.StartOnAsync(database.Path))
        {
            await using var back = await RecordingStream.OpenAsync(http, Stream(second), r => r.Headers.Add("Last-Event-ID", leftAt));
            await Eventually.HoldsAsync(() => back.CountFrames("graph_synced") == 1, "the resume reached the second run's start");
            var answer = await PostAsync(http, second, """{"execution_id":"c1","tool_ids":["git:status","git:commit"]}""");
            Assert.Equal(["c1"], Strings(answer, "accepted"));
            await Eventually.HoldsAsync(() => back.CountFrames("workflow_executed") == 11, "the resumed reader received the live execution");

            var frames = back.Frames();
            Assert.Equal("connected", frames[0].EventType);
            Assert.DoesNotContain(frames, f => f.EventType == "events_lost");
            var received = frames.Skip(1).Where(f => f.Id is not null).ToList();

            // Exactly what it missed: same ids, same data, in order; then the second run's own start,
            // then live events, all in the same log (the same epoch, offsets going on).
            Assert.Equal(missed, received.Take(missed.Count));
            Assert.Equal("graph_synced", received[missed.Count].EventType);
            Assert.Contains(received.Skip(missed.Count + 1), f => f.EventType == "workflow_executed" && f.Data.Contains("\"workflow_id\":\"c1\"", StringComparison.Ordinal));
            Assert.All(received, f => Assert.Equal(EventIds.Epoch(leftAt), EventIds.Epoch(f.Id)));
            Assert.Equal(received.Select(f => EventIds.Offset(f.Id)), received.Select(f => EventIds.Offset(f.Id)).Order());

            // Every execution answered 202 is in the graph once, and retrying the first POST after
            // the restart learns nothing again.
            var again = await PostAsync(http, second, FirstBody);
            Assert.Empty(Strings(again, "accepted"));
            Assert.Equal(["a1", "a2", "a3"], Strings(again, "duplicates"));
            using var graph = JsonDocument.Parse(await http.GetStringAsync(new Uri(second.BaseAddress, "graph"), Token));
            var counts = graph.RootElement.GetProperty("edges").EnumerateArray()
                .ToDictionary(e => $"{e.GetProperty("from").GetString()}>{e.GetProperty("to").GetString()}", e => e.GetProperty("observed_count").GetInt32());
            Assert.Equal(2, counts["git:status>git:diff"]);
            Assert.Equal(2, counts["git:diff>git:commit"]);
            Assert.Equal(11, counts["git:status>git:commit"]);
            Assert.Equal(0, await second.TerminateAsync());
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database.Path, Pooling = false }.ToString());
        connection.Open();
        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
    }

    private static Uri Stream(ChildServer server) => new(server.BaseAddress, "events/stream");

    private static async Task<JsonElement> PostAsync(HttpClient http, ChildServer server, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(server.BaseAddress, "executions"), content, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string[] Strings(JsonElement answer, string property) =>
        [.. answer.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];
}
