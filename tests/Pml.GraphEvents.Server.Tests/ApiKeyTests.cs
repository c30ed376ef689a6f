using System.Net;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>With Server:ApiKey configured, ingest needs it; without one, the server stays on loopback.</summary>
public sealed class ApiKeyTests
{
    private const string Key = "a-long-enough-test-key-0123456789";
    private const string Body = """{"execution_id":"e1","tool_ids":["git:status","git:commit"]}""";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_configured_key_is_required_on_ingest()
    {
        using var database = new TempDatabase();
        await using var server = await RunningServer.StartAsync(database.Path, settings: new Dictionary<string, string> { ["Server:ApiKey"] = Key });
        using var http = server.CreateClient();

        var missing = await http.PostAsync("executions", RunningServer.Json(Body), Token);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, "executions") { Content = RunningServer.Json(Body) };
        wrong.Headers.Add("X-Api-Key", Key + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong, Token)).StatusCode);

        using var right = new HttpRequestMessage(HttpMethod.Post, "executions") { Content = RunningServer.Json(Body) };
        right.Headers.Add("X-Api-Key", Key);
        Assert.Equal(HttpStatusCode.Accepted, (await http.SendAsync(right, Token)).StatusCode);

        // Reading stays open: a browser's EventSource cannot send a header.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("graph", Token)).StatusCode);
    }

    [Fact]
    public async Task Without_a_key_ingest_is_open_on_loopback()
    {
        using var database = new TempDatabase();
        await using var server = await RunningServer.StartAsync(database.Path);
        using var http = server.CreateClient();

        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync("executions", RunningServer.Json(Body), Token)).StatusCode);
    }

    [Theory]
    [InlineData("http://0.0.0.0:5080")]
    [InlineData("http://*:5080")]
    [InlineData("http://+:5080")]
    [InlineData("http://192.168.1.20:5080")]
    [InlineData("http://127.0.0.1:5080;http://[::]:5080")]
    public void Without_a_key_a_non_loopback_address_refuses_to_start(string urls)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ServerApp.Build(["--urls", urls]));
        Assert.Contains("without an API key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080")]
    [InlineData("http://localhost:5080")]
    [InlineData("http://[::1]:5080")]
    public void Loopback_addresses_need_no_key(string url) => Assert.True(LoopbackGuard.IsLoopback(url));

    [Fact]
    public async Task With_a_key_any_address_may_be_configured()
    {
        await using var app = ServerApp.Build(["--urls", "http://0.0.0.0:0", "--api-key", Key]);
        Assert.NotNull(app);
    }
}
