using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>What a newcomer gets with no set-up: the catalog, the simulator, the page, the health check; and options checked at start-up.</summary>
public sealed class StartupTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sample_catalog_is_registered_and_health_is_reported()
    {
        using var database = new TempDatabase();
        await using var server = await RunningServer.StartAsync(database.Path);
        using var http = server.CreateClient();

        using var health = JsonDocument.Parse(await http.GetStringAsync("healthz", Token));
        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.Equal(49, health.RootElement.GetProperty("nodes").GetInt32());

        var snapshot = server.Services.GetRequiredService<IToolGraphEngine>().Snapshot;
        Assert.True(snapshot.ContainsTool("filesystem:read_file"));
        Assert.True(snapshot.ContainsTool("git:commit"));
        Assert.True(snapshot.TryGetTool("github:create_pull_request", out var tool));
        Assert.Equal("github", tool.ServerId);
    }

    [Fact]
    public async Task The_simulator_teaches_the_graph_within_seconds()
    {
        using var database = new TempDatabase();
        await using var server = await RunningServer.StartAsync(
            database.Path,
            settings: new Dictionary<string, string> { ["simulate"] = "true", ["Server:SimulationInterval"] = "00:00:00.050", ["Server:SimulationSeed"] = "7" });
        var engine = server.Services.GetRequiredService<IToolGraphEngine>();

        await Eventually.TrueAsync(() => Task.FromResult(engine.Snapshot.Edges.Count >= 10), "ten edges learned from simulated executions");
        Assert.All(engine.Snapshot.Edges, edge => Assert.NotEqual(edge.FromToolId, edge.ToToolId));
    }

    [Fact]
    public async Task The_simulated_executions_use_only_catalog_tools()
    {
        var catalog = SampleCatalog.Load();
        var known = catalog.Tools.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        Assert.InRange(catalog.Tools.Length, 40, 60);
        using var database = new TempDatabase();
        await using var server = await RunningServer.StartAsync(database.Path);
        var simulator = server.Services.GetRequiredService<WorkflowSimulator>();
        var random = new Random(1);
        for (var i = 0; i < 500; i++)
        {
            var execution = simulator.Next(random, i);
            Assert.All(execution.Tasks, task => Assert.Contains(task.Tool, known));
            Assert.All(execution.Tasks, task => Assert.All(task.DependsOn, d => Assert.Contains(execution.Tasks, t => t.Id == d)));
        }
    }

    [Fact]
    public async Task The_dashboard_page_is_served_at_the_root()
    {
        using var database = new TempDatabase();
        await using var server = await RunningServer.StartAsync(database.Path);
        using var http = server.CreateClient();

        var page = await http.GetAsync("/", Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync(Token);
        Assert.Contains("id=\"connection-status\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal); // nothing from a CDN

        var script = await http.GetAsync("app.js", Token);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("style.css", Token)).StatusCode);
    }

    [Fact]
    public async Task Streams_are_limited_to_16_per_address_by_default_and_configuration_overrides_it()
    {
        using var database = new TempDatabase();
        await using (var defaults = await RunningServer.StartAsync(database.Path))
        {
            var options = defaults.Services.GetRequiredService<IOptions<Pml.GraphEvents.AspNetCore.GraphEventStreamOptions>>().Value;
            Assert.Equal(16, options.MaxStreamsPerAddress);
            Assert.Equal(TimeSpan.FromMinutes(10), options.MaxStreamDuration);
        }

        await using (var raised = await RunningServer.StartAsync(database.Path, settings: new Dictionary<string, string> { ["GraphEvents:Stream:MaxStreamsPerAddress"] = "500" }))
        {
            Assert.Equal(500, raised.Services.GetRequiredService<IOptions<Pml.GraphEvents.AspNetCore.GraphEventStreamOptions>>().Value.MaxStreamsPerAddress);
        }

        // An empty value turns the limit off, for a server behind a proxy that forwards no address.
        await using var off = await RunningServer.StartAsync(database.Path, settings: new Dictionary<string, string> { ["GraphEvents:Stream:MaxStreamsPerAddress"] = string.Empty });
        Assert.Null(off.Services.GetRequiredService<IOptions<Pml.GraphEvents.AspNetCore.GraphEventStreamOptions>>().Value.MaxStreamsPerAddress);
    }

    [Theory]
    [InlineData("GraphEvents:Stream:MaxStreamsPerAddress", "0", "GraphEvents:Stream:MaxStreamsPerAddress")]
    [InlineData("Server:MaxBodyBytes", "10", "Server:MaxBodyBytes")]
    [InlineData("Server:SimulationInterval", "00:00:00", "Server:SimulationInterval")]
    [InlineData("Server:ApiKey", "short", "Server:ApiKey")]
    [InlineData("GraphEvents:EventLog:MaxEvents", "0", "GraphEvents:EventLog:MaxEvents")]
    [InlineData("GraphEvents:EventLog:MaxBytes", "1024", "GraphEvents:EventLog:MaxBytes")]
    [InlineData("GraphEvents:Engine:DuplicateWindowCount", "-1", "GraphEvents:Engine:DuplicateWindowCount")]
    [InlineData("GraphEvents:Engine:DuplicateWindowAge", "00:00:00", "GraphEvents:Engine:DuplicateWindowAge")]
    public async Task Invalid_options_stop_the_server_at_start_up_naming_the_option(string key, string value, string named)
    {
        using var database = new TempDatabase();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            RunningServer.StartAsync(database.Path, settings: new Dictionary<string, string> { [key] = value }));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A bad value under every validated key of the server's own section.</summary>
    public static TheoryData<string, string> EveryServerKey() => new()
    {
        { "Server:MaxConnections", "0" },
        { "Server:IdleConnectionTimeout", "00:00:00" },
        { "Server:RequestHeadersTimeout", "00:00:00" },
        { "Server:BodyReadTimeout", "00:00:01" },
        { "Server:MaxPendingBodyBytes", "10" },
        { "Server:AllowedHosts", "http://example.com" },
        { "Server:TrustedProxies", "not-an-address" },
        { "Server:ApiKey", "short" },
        { "Server:ApiKeyHeader", " " },
        { "Server:MaxBodyBytes", "1023" },
        { "Server:DatabasePath", " " },
        { "Server:SimulationInterval", "00:00:00" },
        { "Server:EventLog", "99" },
        { "Server:LogFormat", "xml" },
    };

    [Theory]
    [MemberData(nameof(EveryServerKey))]
    public async Task A_bad_value_under_each_server_key_stops_the_server_with_one_failure_naming_the_key(string key, string value)
    {
        using var database = new TempDatabase();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            RunningServer.StartAsync(database.Path, settings: new Dictionary<string, string> { [key] = value }));
        var failure = Assert.Single(error.Failures);
        Assert.StartsWith(key, failure, StringComparison.Ordinal);
    }
}
