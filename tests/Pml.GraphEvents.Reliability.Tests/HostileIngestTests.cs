using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Hostile bodies on <c>POST /executions</c>: each is refused with a clear 4xx or learned safely,
/// the server keeps serving, and no frame any client receives is malformed.
/// </summary>
public sealed class HostileIngestTests
{
    private static readonly string[] InjectingToolIds =
    [
        "line\nbreak",
        "carriage\rreturn",
        "crlf\r\n\r\ndata: {}",
        "nul\0byte",
        "event: x",
        "x\n\nevent: edge_created\ndata: {\"forged\":true}\n\n",
        "id: 999999\nretry: 1",
        "next\u0085line\u2028separator\u2029paragraph",
        "<script>alert(1)</script>",
        "quote\"back\\slash",
    ];

    // '<' as it is, as a producer in another language sends it: the body stays small, the frame grows 6×.
    private static readonly JsonSerializerOptions Unescaped = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Tool_ids_that_try_to_inject_frames_travel_as_data_and_no_frame_breaks()
    {
        await using var watched = await WatchedServer.StartAsync();
        var client = watched.Server.Client;
        var ids = InjectingToolIds;
        for (var i = 0; i < ids.Length; i++)
        {
            var body = JsonSerializer.Serialize(new { execution_id = $"inject-{i}", tool_ids = new[] { "safe:start", ids[i] } });
            using var response = await client.PostAsync("executions", RunningServer.Json(body), Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        foreach (var frames in await watched.VerifyWitnessesAsync(ids.Length))
        {
            // Every hostile id came back exactly, inside the JSON of its frame.
            var edges = frames.Where(f => f.EventType == "edge_created")
                .Select(f => JsonDocument.Parse(f.Data).RootElement.GetProperty("to_tool_id").GetString())
                .ToList();
            Assert.Equal(ids, edges);
            Assert.DoesNotContain(frames, f => f.EventType == "x");
        }
    }

    [Fact]
    public async Task A_one_megabyte_tool_id_is_refused_at_ingest_and_streams_intact_when_a_library_user_publishes_it()
    {
        await using var watched = await WatchedServer.StartAsync();
        var huge = new string('\n', 512 * 1024) + new string('x', 512 * 1024);
        var body = JsonSerializer.Serialize(new { execution_id = "huge", tool_ids = new[] { "a", huge } });
        using (var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(body), Token))
        {
            // 6 MB of JSON once the newlines are escaped: over the body limit.
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        using (var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(JsonSerializer.Serialize(new { execution_id = "long", tool_ids = new[] { "a", new string('x', 300_000) } })), Token))
        {
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "tool_ids[1]");
        }

        // The library refuses an event whose frame is over MaxEventBytes (6 MB once escaped)...
        var tooLarge = Assert.Throws<ArgumentException>(() => watched.Server.Broadcaster.TryPublish(new WorkflowExecutedEvent("huge", ["a", huge], true, 1, DateTimeOffset.UtcNow)));
        Assert.Contains("MaxEventBytes", tooLarge.Message, StringComparison.Ordinal);

        // ...and frames one under it intact, however hostile its characters (the ingest caps ids at 256).
        var large = new string('\n', 100 * 1024) + new string('x', 100 * 1024);
        await watched.Server.Broadcaster.PublishAsync(new WorkflowExecutedEvent("large", ["a", large], true, 1, DateTimeOffset.UtcNow), Token);
        foreach (var frames in await watched.VerifyWitnessesAsync(1))
        {
            var executed = Assert.Single(frames, f => f.EventType == "workflow_executed");
            Assert.Equal(large, JsonDocument.Parse(executed.Data).RootElement.GetProperty("tool_ids")[1].GetString());
        }
    }

    [Fact]
    public async Task Lone_surrogates_in_tool_ids_get_400_and_do_not_break_the_stream()
    {
        await using var watched = await WatchedServer.StartAsync();

        // Valid JSON escapes, invalid UTF-16: a string System.Text.Json reads but cannot write as is.
        // Regression: this answered 500 (JsonElement.GetString threw).
        using (var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json("""{"execution_id":"surrogate","tool_ids":["a","\ud800x"]}"""), Token))
        {
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "tool_ids[1]");
        }

        using (var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json("""{"execution_id":"after","tool_ids":["a","b"]}"""), Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        foreach (var frames in await watched.VerifyWitnessesAsync(1))
        {
            Assert.Contains(frames, f => f.EventType == "workflow_executed" && f.Data.Contains("\"after\"", StringComparison.Ordinal));
        }
    }

    public static readonly TheoryData<string, byte[]> InvalidUtf8 = new()
    {
        { "a lone continuation byte", [.. "{\"execution_id\":\"e\",\"tool_ids\":[\"a\",\""u8, 0x80, .. "\"]}"u8] },
        { "an overlong slash", [.. "{\"execution_id\":\"e\",\"tool_ids\":[\"a\",\""u8, 0xC0, 0xAF, .. "\"]}"u8] },
        { "an encoded surrogate", [.. "{\"execution_id\":\"e\",\"tool_ids\":[\"a\",\""u8, 0xED, 0xA0, 0x80, .. "\"]}"u8] },
        { "a truncated sequence", [.. "{\"execution_id\":\"e\",\"tool_ids\":[\"a\",\""u8, 0xE2, 0x82, .. "\"]}"u8] },
        { "0xFF", [.. "{\"execution_id\":\""u8, 0xFF, .. "\",\"tool_ids\":[\"a\",\"b\"]}"u8] },
    };

    /// <summary>Regression: each of these answered 500 (JsonElement.GetString threw on the invalid bytes).</summary>
    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public async Task Invalid_utf8_bodies_get_400(string what, byte[] body)
    {
        await using var watched = await WatchedServer.StartAsync();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await watched.Server.Client.PostAsync("executions", content, Token);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "$", what);
        await watched.VerifyWitnessesAsync(0);
    }

    public static readonly TheoryData<string, string, string> WrongBodies = new()
    {
        { "negative duration", """{"execution_id":"e","tool_ids":["a","b"],"execution_time_ms":-5}""", "execution_time_ms" },
        { "duration as a string", """{"execution_id":"e","tool_ids":["a","b"],"execution_time_ms":"12"}""", "execution_time_ms" },
        { "huge duration", """{"execution_id":"e","tool_ids":["a","b"],"execution_time_ms":1e400}""", "execution_time_ms" },
        { "success as a string", """{"execution_id":"e","tool_ids":["a","b"],"success":"yes"}""", "success" },
        { "id as a number", """{"execution_id":42,"tool_ids":["a","b"]}""", "execution_id" },
        { "tool ids as a string", """{"execution_id":"e","tool_ids":"a,b"}""", "tool_ids" },
        { "tool id null", """{"execution_id":"e","tool_ids":["a",null]}""", "tool_ids[1]" },
        { "tool id an object", """{"execution_id":"e","tool_ids":["a",{"$ref":"x"}]}""", "tool_ids[1]" },
        { "empty tool id", """{"execution_id":"e","tool_ids":["a",""]}""", "tool_ids[1]" },
        { "no tools", """{"execution_id":"e","tool_ids":[]}""", "tool_ids" },
        { "tasks not an array", """{"execution_id":"e","dag_structure":{"tasks":{"id":"t"}}}""", "dag_structure.tasks" },
        { "depends_on a string", """{"execution_id":"e","dag_structure":{"tasks":[{"id":"t1","tool":"a","depends_on":"t0"}]}}""", "dag_structure.tasks[0].depends_on" },
        { "depends_on an unknown task", """{"execution_id":"e","dag_structure":{"tasks":[{"id":"t1","tool":"a","depends_on":["t9"]}]}}""", "dag_structure.tasks[0].depends_on[0]" },
        { "a task id twice", """{"execution_id":"e","dag_structure":{"tasks":[{"id":"t","tool":"a"},{"id":"t","tool":"b"}]}}""", "dag_structure.tasks[1].id" },
        { "a bare number", "42", "$" },
        { "an empty array", "[]", "$" },
        { "NaN", """{"execution_id":"e","tool_ids":["a","b"],"execution_time_ms":NaN}""", "$" },
        { "trailing garbage", """{"execution_id":"e","tool_ids":["a","b"]} {}""", "$" },
        { "a comment", """{"execution_id":"e", /* x */ "tool_ids":["a","b"]}""", "$" },
        { "nested 10,000 deep", new string('[', 10_000) + new string(']', 10_000), "$" },
        { "an object nested 10,000 deep", string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000), "$" },
        { "an empty body", "", "$" },
    };

    [Theory]
    [MemberData(nameof(WrongBodies))]
    public async Task Malformed_executions_get_400_naming_the_field(string what, string body, string field)
    {
        await using var watched = await WatchedServer.StartAsync();
        using var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(body), Token);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, field, what);
        Assert.Empty(watched.Engine.Snapshot.Edges);
        await watched.VerifyWitnessesAsync(0);
    }

    [Fact]
    public async Task Cyclic_and_self_dependencies_are_learned_as_plain_edges_without_hanging()
    {
        await using var watched = await WatchedServer.StartAsync();
        const string Cycle = """
            {"execution_id":"cycle","dag_structure":{"tasks":[
              {"id":"t1","tool":"a","depends_on":["t3"]},
              {"id":"t2","tool":"b","depends_on":["t1"]},
              {"id":"t3","tool":"c","depends_on":["t2"]},
              {"id":"t4","tool":"d","depends_on":["t4"]}]}}
            """;
        using var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(Cycle), Token);

        // The engine learns "B ran after A" pairs and never walks the DAG, so a cycle is three
        // edges, and a task depending on itself is a self-loop, which is skipped.
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var edges = watched.Engine.Snapshot.Edges.Select(e => $"{e.FromToolId}->{e.ToToolId}").Order(StringComparer.Ordinal);
        Assert.Equal(["a->b", "b->c", "c->a"], edges);
        await watched.VerifyWitnessesAsync(1);
    }

    [Fact]
    public async Task Ten_megabyte_bodies_get_413_declared_or_chunked()
    {
        await using var watched = await WatchedServer.StartAsync();
        var tenMegabytes = Encoding.UTF8.GetBytes("{\"execution_id\":\"e\",\"tool_ids\":[\"a\",\"" + new string('x', 10 * 1024 * 1024) + "\"]}");

        using (var declared = new ByteArrayContent(tenMegabytes))
        {
            declared.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await watched.Server.Client.PostAsync("executions", declared, Token);
            await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, null, "with Content-Length");
        }

        // No Content-Length: the limit is enforced while reading.
        using (var chunked = new StreamContent(new NonSeekableStream(tenMegabytes)))
        {
            chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "executions") { Content = chunked };
            request.Headers.TransferEncodingChunked = true;
            try
            {
                using var response = await watched.Server.Client.SendAsync(request, Token);
                await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, null, "chunked");
            }
            catch (HttpRequestException)
            {
                // Also acceptable: the server answered 413 and closed before the client finished sending.
            }
        }

        await watched.VerifyWitnessesAsync(0);
    }

    [Theory]
    [InlineData("""{"execution_id":"a","execution_id":"b","tool_ids":["x","y"]}""", "execution_id")]
    [InlineData("""{"execution_id":"e","tool_ids":["x","y"],"success":true,"success":false}""", "success")]
    [InlineData("""{"execution_id":"e","dag_structure":{"tasks":[{"id":"t1","tool":"x","tool":"y"}]}}""", "tool")]
    public async Task Duplicate_keys_get_400_naming_the_key(string body, string key)
    {
        await using var watched = await WatchedServer.StartAsync();
        using var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(body), Token);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "$");
        Assert.Contains($"'{key}'", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Empty(watched.Engine.Snapshot.Edges);
    }

    [Fact]
    public async Task Minus_zero_milliseconds_is_learned_as_zero()
    {
        await using var watched = await WatchedServer.StartAsync();
        using var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json("""{"execution_id":"z","tool_ids":["x","y"],"execution_time_ms":-0}"""), Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        foreach (var frames in await watched.VerifyWitnessesAsync(1))
        {
            var data = Assert.Single(frames, f => f.EventType == "workflow_executed").Data;
            Assert.Contains("\"execution_time_ms\":0,", data, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("application/json; charset=iso-8859-1", null)]
    [InlineData("application/json; charset=utf-16", null)]
    [InlineData("application/json", "gzip")]
    [InlineData("application/json", "identity, deflate")]
    public async Task A_charset_other_than_utf8_or_a_content_encoding_gets_415(string contentType, string? encoding)
    {
        await using var watched = await WatchedServer.StartAsync();
        using var content = new StringContent("""{"execution_id":"e","tool_ids":["x","y"]}""");
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Encoding", encoding);
        }

        using var response = await watched.Server.Client.PostAsync("executions", content, Token);
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, null, contentType + " " + encoding);
        Assert.Empty(watched.Engine.Snapshot.Edges);

        using var utf8 = new StringContent("""{"execution_id":"e","tool_ids":["x","y"]}""");
        utf8.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json; charset=UTF-8");
        utf8.Headers.ContentEncoding.Add("identity");
        using var accepted = await watched.Server.Client.PostAsync("executions", utf8, Token);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [Fact]
    public async Task An_execution_whose_event_would_pass_max_event_bytes_gets_413_naming_it_and_nothing_of_its_array_is_learned()
    {
        await using var watched = await WatchedServer.StartAsync();

        // 1,000 tool ids of 256 '<': 258 KB of body, 1.5 MB of frame once each '<' is escaped as \u003C.
        var escaped = Enumerable.Range(0, 1_000).Select(i => i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture) + new string('<', 252)).ToArray();
        var body = JsonSerializer.Serialize(
            new object[]
            {
                new { execution_id = "fine", tool_ids = (string[])["x", "y"] },
                new { execution_id = "huge", tool_ids = escaped },
            },
            Unescaped);
        using var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(body), Token);
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "[1].tool_ids");
        Assert.Empty(watched.Engine.Snapshot.Edges); // not even the first, valid one
        await watched.VerifyWitnessesAsync(0);

        // Just under the bound is learned (GraphEvents:MaxEventBytes counts the frame exactly).
        var under = JsonSerializer.Serialize(new { execution_id = "under", tool_ids = escaped[..600] }, Unescaped);
        using var accepted = await watched.Server.Client.PostAsync("executions", RunningServer.Json(under), Token);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        await watched.VerifyWitnessesAsync(1);
    }

    [Fact]
    public async Task Edge_observations_over_max_edges_per_execution_get_400_and_a_repeated_dependency_is_one()
    {
        await using var watched = await WatchedServer.StartAsync();

        // The amplification: one task listing the same dependency 260,000 times (1 MB of body).
        var repeated = "{\"execution_id\":\"amp\",\"dag_structure\":{\"tasks\":[{\"id\":\"a\",\"tool\":\"x\"},{\"id\":\"b\",\"tool\":\"y\",\"depends_on\":["
            + string.Join(',', Enumerable.Repeat("\"a\"", 260_000)) + "]}]}}";
        using (var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(repeated), Token))
        {
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "dag_structure.tasks[1].depends_on");
        }

        // 1,000 tasks each after the two before: 1,997 edge observations, over the default 1,000.
        var tasks = Enumerable.Range(0, 1_000).Select(i => new
        {
            id = $"t{i}",
            tool = $"tool{i}",
            depends_on = Enumerable.Range(Math.Max(0, i - 2), Math.Min(i, 2)).Select(d => $"t{d}").ToArray(),
        });
        using (var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(JsonSerializer.Serialize(new[] { new { execution_id = "wide", dag_structure = new { tasks } } })), Token))
        {
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "[0].dag_structure.tasks");
        }

        Assert.Empty(watched.Engine.Snapshot.Edges);

        // The same dependency listed 500 times is one dependency: one observation, one event.
        var twice = "{\"execution_id\":\"dup\",\"dag_structure\":{\"tasks\":[{\"id\":\"a\",\"tool\":\"x\"},{\"id\":\"b\",\"tool\":\"y\",\"depends_on\":["
            + string.Join(',', Enumerable.Repeat("\"a\"", 500)) + "]}]}}";
        using (var response = await watched.Server.Client.PostAsync("executions", RunningServer.Json(twice), Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var edge = Assert.Single(watched.Engine.Snapshot.Edges);
        Assert.Equal(1, edge.ObservedCount);
        foreach (var frames in await watched.VerifyWitnessesAsync(1))
        {
            Assert.Equal(1, frames.Count(f => f.EventType is "edge_created" or "edge_updated"));
        }
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field, string? what = null)
    {
        var text = await response.Content.ReadAsStringAsync(Token);
        Assert.True(status == response.StatusCode, $"{what}: expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        if (field is not null)
        {
            var errors = problem.RootElement.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out _), $"{what}: no error for '{field}' in {text}");
        }
    }

    /// <summary>A stream with no length, so HttpClient sends the body chunked.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
