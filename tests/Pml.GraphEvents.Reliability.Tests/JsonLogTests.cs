using System.Net;
using System.Text;
using System.Text.Json;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// <c>--log-format json</c>: the real server's console output is one JSON object per line, which a
/// log collector parses without patterns, and a client's mistakes add no error and no stack trace.
/// </summary>
public sealed class JsonLogTests
{
    [Fact]
    public async Task Every_line_the_server_writes_is_a_json_object_and_a_clients_mistakes_log_no_error()
    {
        await using var server = await ChildServer.StartAsync(null, null, "--log-format", "json");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        // Client mistakes: a body that is not JSON, one that is not an execution, a stream request
        // with a malformed Last-Event-ID. And one good execution and a stream that ends.
        using (var bad = await http.PostAsync("/executions", new StringContent("{not json", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        using (var wrong = await http.PostAsync("/executions", new StringContent("""{"execution_id": 3}""", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        }

        using (var good = await http.PostAsync("/executions", new StringContent("""{"execution_id": "j1", "tool_ids": ["filesystem:read_file", "git:commit"], "success": true, "execution_time_ms": 3}""", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, good.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/events/stream"))
        {
            request.Headers.Add("Last-Event-ID", "not-an-id");
            using var stream = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        }

        // The stream's end is logged when the server sees the connection go (Information).
        await Eventually.HoldsAsync(
            () => server.Output.Contains("disconnected", StringComparison.Ordinal),
            () => $"the stream's end was logged; output:\n{server.Output}");
        Assert.Equal(0, await server.TerminateAsync());

        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var messages = new List<string>();
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);
            var root = entry.RootElement;
            Assert.Equal(JsonValueKind.Object, root.ValueKind);
            Assert.True(DateTimeOffset.TryParse(root.GetProperty("Timestamp").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _), line);
            var level = root.GetProperty("LogLevel").GetString();
            Assert.False(string.IsNullOrEmpty(root.GetProperty("Category").GetString()), line);
            Assert.True(level is "Information" or "Debug" or "Trace", $"A client's mistakes logged at {level}: {line}");
            Assert.False(root.TryGetProperty("Exception", out _), $"A stack trace for a client's mistake: {line}");
            messages.Add(root.GetProperty("Message").GetString()!);
        }

        Assert.Contains(messages, m => m.Contains("Application started", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("disconnected", StringComparison.Ordinal));
    }
}
