using System.Net;
using System.Net.Http.Json;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>
/// <c>GET /graph/next</c> and <c>/graph/previous</c> on the real server: the tools that follow and
/// precede one, most probable first, with the probability DESIGN §9 defines, stamped with the
/// snapshot's <c>as_of_event_id</c>; a client's mistake is a 400 with the reason, never a 500.
/// </summary>
public sealed class QueryEndpointTests : IAsyncLifetime
{
    private TestHost _server = null!;
    private HttpClient _http = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await RunningServer.StartAsync();
        _http = _server.CreateClient();

        // git:status → git:diff 3 times, → git:commit once; git:log → git:commit once.
        foreach (var (id, tools) in new[]
        {
            ("q1", "\"git:status\",\"git:diff\""), ("q2", "\"git:status\",\"git:diff\""), ("q3", "\"git:status\",\"git:diff\""),
            ("q4", "\"git:status\",\"git:commit\""), ("q5", "\"git:log\",\"git:commit\""),
        })
        {
            using var content = new StringContent($$"""{"execution_id":"{{id}}","tool_ids":[{{tools}}]}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await _http.PostAsync(new Uri("/executions", UriKind.Relative), content, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Token)).Clone();
    }

    [Fact]
    public async Task Next_lists_the_tools_that_follow_most_probable_first_with_the_step_probability()
    {
        var body = await GetJsonAsync("/graph/next?tool=git:status&k=5");
        var graph = await GetJsonAsync("/graph");
        Assert.Equal("git:status", body.GetProperty("tool_id").GetString());
        Assert.Equal(graph.GetProperty("as_of_event_id").GetString(), body.GetProperty("as_of_event_id").GetString());

        // Confidence: git:diff 0.5 · 1.1² = 0.605, git:commit 0.5; probability = confidence / 1.105.
        var next = body.GetProperty("next").EnumerateArray().ToArray();
        Assert.Equal(["git:diff", "git:commit"], next.Select(n => n.GetProperty("tool_id").GetString()));
        Assert.Equal(0.605 / 1.105, next[0].GetProperty("probability").GetDouble(), 12);
        Assert.Equal(0.5 / 1.105, next[1].GetProperty("probability").GetDouble(), 12);
        Assert.Equal(3, next[0].GetProperty("observed_count").GetInt32());
        Assert.Equal(0.605, next[0].GetProperty("confidence").GetDouble(), 12);

        var one = await GetJsonAsync("/graph/next?tool=git:status&k=1");
        Assert.Single(one.GetProperty("next").EnumerateArray());
        var none = await GetJsonAsync("/graph/next?tool=git:diff");
        Assert.Empty(none.GetProperty("next").EnumerateArray());
    }

    [Fact]
    public async Task Previous_lists_the_tools_that_precede_with_the_probability_of_their_step_to_it()
    {
        var body = await GetJsonAsync("/graph/previous?tool=git:commit");
        var previous = body.GetProperty("previous").EnumerateArray().ToArray();

        // git:log's only edge goes to git:commit (probability 1); git:status's is one of two.
        Assert.Equal(["git:log", "git:status"], previous.Select(n => n.GetProperty("tool_id").GetString()));
        Assert.Equal(1.0, previous[0].GetProperty("probability").GetDouble(), 12);
        Assert.Equal(0.5 / 1.105, previous[1].GetProperty("probability").GetDouble(), 12);
        Assert.False(body.TryGetProperty("next", out _));
    }

    [Theory]
    [InlineData("/graph/next", "'tool'")]
    [InlineData("/graph/next?tool=", "'tool'")]
    [InlineData("/graph/next?tool=nope:tool", "not a tool of the graph")]
    [InlineData("/graph/next?tool=git:status&k=0", "1 to 20")]
    [InlineData("/graph/next?tool=git:status&k=21", "1 to 20")]
    [InlineData("/graph/next?tool=git:status&k=two", "1 to 20")]
    [InlineData("/graph/previous?tool=git:commit&k=-1", "1 to 20")]
    public async Task A_missing_or_unknown_tool_or_a_k_out_of_range_is_a_400_with_the_reason(string path, string reason)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Token);
        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_next_command_prints_both_tables_and_a_mistake_goes_to_stderr_with_exit_code_1()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(0, await NextCommand.RunAsync([_server.BaseAddress.ToString(), "git:status"], output, error, Token));
        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("1  git:diff", StringComparison.Ordinal) && l.Contains((0.605 / 1.105).ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) && l.EndsWith(" 3", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("2  git:commit", StringComparison.Ordinal));
        Assert.Contains("Usually preceded by", output.ToString(), StringComparison.Ordinal);
        Assert.Empty(error.ToString());

        using var unknownOut = new StringWriter();
        using var unknownError = new StringWriter();
        Assert.Equal(1, await NextCommand.RunAsync([_server.BaseAddress.ToString(), "nope:tool"], unknownOut, unknownError, Token));
        Assert.Contains("400", unknownError.ToString(), StringComparison.Ordinal);
        Assert.Contains("not a tool of the graph", unknownError.ToString(), StringComparison.Ordinal);

        using var usageError = new StringWriter();
        Assert.Equal(2, await NextCommand.RunAsync(["not a url"], TextWriter.Null, usageError, Token));
        Assert.StartsWith("usage: next", usageError.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paths_lists_the_most_likely_chains_and_none_when_unreachable()
    {
        // git:status → git:diff is likelier than → git:commit, but only git:commit reaches… itself; git:log → git:commit.
        var body = await GetJsonAsync("/graph/paths?from=git:status&to=git:commit&k=3");
        var paths = body.GetProperty("paths").EnumerateArray().ToArray();
        var path = Assert.Single(paths);
        Assert.Equal(["git:status", "git:commit"], path.GetProperty("tool_ids").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(0.5 / 1.105, path.GetProperty("probability").GetDouble(), 12);
        Assert.Equal((await GetJsonAsync("/graph")).GetProperty("as_of_event_id").GetString(), body.GetProperty("as_of_event_id").GetString());
        Assert.Empty((await GetJsonAsync("/graph/paths?from=git:commit&to=git:status")).GetProperty("paths").EnumerateArray());

        using var output = new StringWriter();
        Assert.Equal(0, await PathsCommand.RunAsync([_server.BaseAddress.ToString(), "git:status", "git:commit"], output, TextWriter.Null, Token));
        Assert.Contains("git:status → git:commit", output.ToString(), StringComparison.Ordinal);

        foreach (var bad in new[] { "/graph/paths?from=git:status", "/graph/paths?from=git:status&to=nope", "/graph/paths?from=git:status&to=git:commit&k=25" })
        {
            using var response = await _http.GetAsync(new Uri(bad, UriKind.Relative), Token);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }
}
