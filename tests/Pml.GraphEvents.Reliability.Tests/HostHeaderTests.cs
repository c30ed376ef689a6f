using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// DNS rebinding: without an API key the server answers only loopback names and its configured
/// URLs' hosts, so a page whose name rebinds to 127.0.0.1 gets 400 on every endpoint. With a key,
/// <c>Server:AllowedHosts</c> chooses.
/// </summary>
public sealed class HostHeaderTests
{
    private const string Evil = "evil.rebind.example";
    private const string Execution = """{"execution_id":"rebind","tool_ids":["git:status","git:commit"]}""";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> Endpoints => new()
    {
        { "POST", "executions" },
        { "GET", "events/stream" },
        { "GET", "graph" },
        { "GET", "" },
        { "GET", "healthz" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Without_a_key_a_foreign_host_gets_400_and_loopback_names_are_served(string method, string path)
    {
        await using var server = await RunningServer.StartAsync();
        using (var refused = await SendAsync(server.Client, method, path, Evil + ":" + server.Port))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var engine = server.App.Services.GetRequiredService<IToolGraphEngine>();
        Assert.Empty(engine.Snapshot.Edges); // the refused POST taught nothing

        foreach (var host in (string[])["localhost", "127.0.0.1", "[::1]", "dashboard.localhost"])
        {
            using var served = await SendAsync(server.Client, method, path, host + ":" + server.Port);
            Assert.True(served.IsSuccessStatusCode, $"{host}: {(int)served.StatusCode}");
        }
    }

    [Fact]
    public async Task With_a_key_allowed_hosts_choose_and_any_host_is_the_default()
    {
        const string key = "a-key-of-sixteen-chars-or-more";
        await using (var open = await RunningServer.StartAsync(settings: new Dictionary<string, string> { ["Server:ApiKey"] = key }))
        {
            using var any = await SendAsync(open.Client, "GET", "graph", Evil);
            Assert.Equal(HttpStatusCode.OK, any.StatusCode);
        }

        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Server:ApiKey"] = key,
            ["Server:AllowedHosts"] = "graph.example.com;*.graph.example.com",
        });
        using (var refused = await SendAsync(server.Client, "GET", "graph", Evil))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        foreach (var host in (string[])["graph.example.com", "eu.graph.example.com:8443"])
        {
            using var served = await SendAsync(server.Client, "GET", "graph", host);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
    }

    [Theory]
    [InlineData("*", null, "Server:AllowedHosts may not be * without an API key")]
    [InlineData("graph.example.com:8080", null, "Server:AllowedHosts")]
    [InlineData(null, "not-an-address", "Server:TrustedProxies")]
    [InlineData(null, "10.0.0.0/99", "Server:TrustedProxies")]
    public async Task Bad_host_and_proxy_lists_stop_the_server_at_start_naming_the_option(string? hosts, string? proxies, string expected)
    {
        var settings = new Dictionary<string, string>();
        if (hosts is not null)
        {
            settings["Server:AllowedHosts"] = hosts;
        }

        if (proxies is not null)
        {
            settings["Server:TrustedProxies"] = proxies;
        }

        var failure = await Assert.ThrowsAnyAsync<Exception>(async () => await (await RunningServer.StartAsync(settings: settings)).DisposeAsync());
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, string host)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Host = host;
        if (method == "POST")
        {
            request.Content = RunningServer.Json(Execution);
        }

        // The stream answers its headers at once; the body is not read.
        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token);
    }
}
