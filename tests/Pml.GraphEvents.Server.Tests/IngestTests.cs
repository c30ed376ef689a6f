using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>POST /executions against the real server: the story's shape, the chain shorthand, and every refusal.</summary>
public sealed class IngestTests : IAsyncLifetime
{
    private readonly TempDatabase _database = new();
    private TestHost _server = null!;
    private HttpClient _http = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await RunningServer.StartAsync(_database.Path, settings: new Dictionary<string, string> { ["Server:MaxBodyBytes"] = "4096" });
        _http = _server.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task A_dag_execution_in_the_storys_shape_is_accepted_and_learned()
    {
        var response = await _http.PostAsync(
            "executions",
            RunningServer.Json("""{"execution_id":"e1","dag_structure":{"tasks":[{"id":"t1","tool":"git:status"},{"id":"t2","tool":"git:commit","depends_on":["t1"]}]},"success":true,"execution_time_ms":42}"""),
            Token);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        Assert.Equal(["e1"], body.RootElement.GetProperty("accepted").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, body.RootElement.GetProperty("unknown_tools").GetArrayLength());

        var graph = await GetGraphAsync();
        var edge = Assert.Single(graph.RootElement.GetProperty("edges").EnumerateArray());
        Assert.Equal("git:status", edge.GetProperty("from").GetString());
        Assert.Equal("git:commit", edge.GetProperty("to").GetString());
        Assert.Equal(0.5, edge.GetProperty("confidence").GetDouble());
    }

    [Fact]
    public async Task An_array_with_the_chain_shorthand_is_accepted_in_order()
    {
        var response = await _http.PostAsync(
            "executions",
            RunningServer.Json("""
                [
                  {"execution_id":"e2","tool_ids":["git:status","git:diff","git:commit"],"success":true,"execution_time_ms":12},
                  {"execution_id":"e3","tool_ids":["git:status","git:diff"]}
                ]
                """),
            Token);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        Assert.Equal(["e2", "e3"], body.RootElement.GetProperty("accepted").EnumerateArray().Select(e => e.GetString()));

        var snapshot = _server.Services.GetRequiredService<IToolGraphEngine>().Snapshot;
        Assert.True(snapshot.TryGetEdge("git:status", "git:diff", out var twice));
        Assert.Equal(2, twice.ObservedCount);
        Assert.True(snapshot.TryGetEdge("git:diff", "git:commit", out _));
        Assert.False(snapshot.TryGetEdge("git:status", "git:commit", out _));
    }

    [Fact]
    public async Task The_same_post_sent_twice_is_learned_once_and_the_answer_names_the_duplicates()
    {
        const string Body = """
            [{"execution_id":"r1","tool_ids":["git:status","git:diff"]},
             {"execution_id":"r2","tool_ids":["git:status","git:diff","git:commit"]}]
            """;
        var first = await PostAsync(Body);
        Assert.Equal(["r1", "r2"], Strings(first, "accepted"));
        Assert.Empty(Strings(first, "duplicates"));
        var afterFirst = _server.Services.GetRequiredService<IToolGraphEngine>().Snapshot;

        // A client that lost the first answer retries: 202 again, nothing learned, nothing published.
        var published = _server.Services.GetRequiredService<IGraphEventBroadcaster>().GetStatistics().LastEventId;
        var second = await PostAsync(Body);
        Assert.Empty(Strings(second, "accepted"));
        Assert.Equal(["r1", "r2"], Strings(second, "duplicates"));

        var snapshot = _server.Services.GetRequiredService<IToolGraphEngine>().Snapshot;
        Assert.Same(afterFirst, snapshot);
        Assert.True(snapshot.TryGetEdge("git:status", "git:diff", out var edge));
        Assert.Equal(2, edge.ObservedCount);
        Assert.True(snapshot.TryGetEdge("git:diff", "git:commit", out edge));
        Assert.Equal(1, edge.ObservedCount);
        Assert.Equal(published, _server.Services.GetRequiredService<IGraphEventBroadcaster>().GetStatistics().LastEventId);

        // A body that repeats an id, and mixes a new one with an old one: each learned once.
        var mixed = await PostAsync("""
            [{"execution_id":"r3","tool_ids":["git:diff","git:commit"]},
             {"execution_id":"r3","tool_ids":["git:diff","git:commit"]},
             {"execution_id":"r1","tool_ids":["git:status","git:diff"]}]
            """);
        Assert.Equal(["r3"], Strings(mixed, "accepted"));
        Assert.Equal(["r3", "r1"], Strings(mixed, "duplicates"));
        Assert.True(_server.Services.GetRequiredService<IToolGraphEngine>().Snapshot.TryGetEdge("git:diff", "git:commit", out edge));
        Assert.Equal(2, edge.ObservedCount);
    }

    [Fact]
    public async Task A_store_that_cannot_be_written_answers_503_with_retry_after_and_learns_nothing()
    {
        using var database = new TempDatabase();
        var store = new FailingStore();
        var logs = new ListLoggerProvider();
        await using var server = await RunningServer.StartAsync(
            database.Path,
            settings: new Dictionary<string, string> { ["Server:EventLog"] = "Memory", ["Logging:LogLevel:Pml.GraphEvents.Server"] = "Debug" },
            configure: builder => builder.Services.Replace(ServiceDescriptor.Singleton<IToolGraphStore>(store)),
            logger: logs);
        using var http = server.CreateClient();
        var before = server.Services.GetRequiredService<IToolGraphEngine>().Snapshot;

        store.Failing = true;
        using var response = await http.PostAsync("executions", RunningServer.Json("""{"execution_id":"s1","tool_ids":["git:status","git:commit"]}"""), Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        Assert.Contains("nothing of this body was learned", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Same(before, server.Services.GetRequiredService<IToolGraphEngine>().Snapshot);

        // An outage answers every POST 503: each failure at Debug, one Error line (the first) within the minute.
        using (var again = await http.PostAsync("executions", RunningServer.Json("""{"execution_id":"s1","tool_ids":["git:status","git:commit"]}"""), Token))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
        }

        var failures = logs.Entries.Where(e => e.Message.Contains("failed in the graph store", StringComparison.Ordinal)).ToList();
        Assert.Equal([LogLevel.Debug, LogLevel.Error, LogLevel.Debug], failures.Select(e => e.Level));
        Assert.StartsWith("1 ingest(s) failed", failures[1].Message, StringComparison.Ordinal);

        // Sent again once the store works: learned, not a duplicate.
        store.Failing = false;
        using var retried = await http.PostAsync("executions", RunningServer.Json("""{"execution_id":"s1","tool_ids":["git:status","git:commit"]}"""), Token);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        using var body = JsonDocument.Parse(await retried.Content.ReadAsStringAsync(Token));
        Assert.Equal(["s1"], body.RootElement.GetProperty("accepted").EnumerateArray().Select(e => e.GetString()));
    }

    /// <summary>A store whose writes fail on demand, as a full disk would.</summary>
    private sealed class FailingStore : IToolGraphStore
    {
        private readonly InMemoryToolGraphStore _inner = new();

        public bool Failing { get; set; }

        public ValueTask<ToolGraphStoreContents> LoadAsync(CancellationToken cancellationToken = default) => _inner.LoadAsync(cancellationToken);

        public ValueTask SaveChangesAsync(ToolGraphChanges changes, CancellationToken cancellationToken = default) =>
            Failing ? throw new ToolGraphStoreException("memory", "The store is failing on purpose.", null) : _inner.SaveChangesAsync(changes, cancellationToken);
    }

    [Fact]
    public async Task An_array_with_one_refused_execution_learns_none_of_it()
    {
        var before = _server.Services.GetRequiredService<IToolGraphEngine>().Snapshot;
        var response = await _http.PostAsync(
            "executions",
            RunningServer.Json("""
                [{"execution_id":"ok1","tool_ids":["git:status","git:diff"]},
                 {"execution_id":"bad","dag_structure":{"tasks":[{"id":"t1","tool":"git:status","depends_on":["nope"]}]}}]
                """),
            Token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Same(before, _server.Services.GetRequiredService<IToolGraphEngine>().Snapshot);

        // Nothing of it was remembered either: the good one is learned when sent alone.
        var alone = await PostAsync("""{"execution_id":"ok1","tool_ids":["git:status","git:diff"]}""");
        Assert.Equal(["ok1"], Strings(alone, "accepted"));
    }

    [Fact]
    public async Task Unknown_tools_are_accepted_reported_and_their_edges_skipped()
    {
        var response = await _http.PostAsync(
            "executions",
            RunningServer.Json("""{"execution_id":"e4","tool_ids":["git:status","acme:deploy","git:commit"]}"""),
            Token);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        Assert.Equal(["acme:deploy"], body.RootElement.GetProperty("unknown_tools").EnumerateArray().Select(e => e.GetString()));
        var snapshot = _server.Services.GetRequiredService<IToolGraphEngine>().Snapshot;
        Assert.False(snapshot.ContainsTool("acme:deploy"));
        Assert.Empty(snapshot.Edges);
    }

    [Fact]
    public async Task Invalid_json_is_a_400_problem()
    {
        var response = await _http.PostAsync("executions", RunningServer.Json("""{"execution_id": "e1", """), Token);

        var errors = await AssertValidationProblemAsync(response);
        Assert.Contains("not valid JSON", errors["$"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"dag_structure":{"tasks":[{"id":"t1","tool":"git:status"}]}}""", "execution_id")]
    [InlineData("""{"execution_id":"e1"}""", "dag_structure")]
    [InlineData("""{"execution_id":"e1","dag_structure":{"tasks":[{"id":"t1","tool":""}]}}""", "dag_structure.tasks[0].tool")]
    [InlineData("""{"execution_id":"e1","dag_structure":{"tasks":[{"id":"t1","tool":"git:status","depends_on":["t9"]}]}}""", "dag_structure.tasks[0].depends_on[0]")]
    [InlineData("""{"execution_id":"e1","dag_structure":{"tasks":[{"id":"t1","tool":"a"},{"id":"t1","tool":"b"}]}}""", "dag_structure.tasks[1].id")]
    [InlineData("""{"execution_id":"e1","dag_structure":{"tasks":[]}}""", "dag_structure.tasks")]
    [InlineData("""{"execution_id":"e1","tool_ids":["git:status",7]}""", "tool_ids[1]")]
    [InlineData("""{"execution_id":"e1","tool_ids":["a"],"success":"yes"}""", "success")]
    [InlineData("""{"execution_id":"e1","tool_ids":["a"],"execution_time_ms":-1}""", "execution_time_ms")]
    [InlineData("""{"execution_id":"e1","tool_ids":["a"],"dag_structure":{"tasks":[{"id":"t","tool":"a"}]}}""", "tool_ids")]
    [InlineData("""[{"execution_id":"ok","tool_ids":["a"]},{"tool_ids":["a"]}]""", "[1].execution_id")]
    [InlineData("""[]""", "$")]
    [InlineData("""42""", "$")]
    public async Task A_bad_field_is_a_400_problem_naming_it(string json, string field)
    {
        var response = await _http.PostAsync("executions", RunningServer.Json(json), Token);

        var errors = await AssertValidationProblemAsync(response);
        Assert.Contains(field, errors.Keys);
        Assert.Empty(_server.Services.GetRequiredService<IToolGraphEngine>().Snapshot.Edges);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_with_or_without_content_length()
    {
        var big = $$"""{"execution_id":"e1","tool_ids":["git:status"],"padding":"{{new string('x', 5000)}}"}""";

        var declared = await _http.PostAsync("executions", RunningServer.Json(big), Token);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal("application/problem+json", declared.Content.Headers.ContentType?.MediaType);

        // Chunked: no Content-Length to refuse up front, so the limit applies while reading.
        using var chunked = new StreamContent(new NonSeekableStream(System.Text.Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var streamed = await _http.PostAsync("executions", chunked, Token);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Empty(_server.Services.GetRequiredService<IToolGraphEngine>().Snapshot.Edges);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task A_wrong_content_type_is_a_415(string? contentType)
    {
        using var content = new ByteArrayContent("""{"execution_id":"e1","tool_ids":["git:status","git:commit"]}"""u8.ToArray());
        if (contentType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        var response = await _http.PostAsync("executions", content, Token);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Json_with_a_charset_is_accepted()
    {
        using var content = new StringContent("""{"execution_id":"e1","tool_ids":["git:status","git:commit"]}""", System.Text.Encoding.UTF8, "application/json");
        var response = await _http.PostAsync("executions", content, Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<JsonDocument> GetGraphAsync() =>
        JsonDocument.Parse(await _http.GetStringAsync("graph", Token));

    private static async Task<Dictionary<string, string[]>> AssertValidationProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        return body.RootElement.GetProperty("errors").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetString()!).ToArray());
    }

    /// <summary>Makes HttpClient send the body chunked, with no Content-Length.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    private async Task<JsonElement> PostAsync(string body)
    {
        using var response = await _http.PostAsync("executions", RunningServer.Json(body), Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string[] Strings(JsonElement answer, string property) =>
        [.. answer.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];
}
