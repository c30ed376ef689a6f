using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Pml.GraphEvents.Server;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Browser.Tests;

/// <summary>
/// The dashboard in real Chromium against the real server on 127.0.0.1: it connects, shows
/// events, metrics and the drawing as executions arrive, survives a server restart on the same
/// port, and recreates its stream after a 503 once a slot is free.
/// </summary>
public sealed class DashboardTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private readonly TempDatabase _database = new();
    private IBrowserContext _context = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Short reconnection times, so that a restart is noticed within a second, not three.</summary>
    private static Dictionary<string, string> Settings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string>
        {
            ["GraphEvents:Stream:RetryInterval"] = "00:00:00.200",
            ["GraphEvents:Stream:RetryAfter"] = "00:00:01",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    public async ValueTask InitializeAsync()
    {
        _context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
    }

    public async ValueTask DisposeAsync()
    {
        await _context.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task The_page_loads_and_shows_it_is_connected()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var dashboard = new DashboardPage(await _context.NewPageAsync());

        await dashboard.OpenAsync(server.BaseAddress);

        await dashboard.WaitForStateAsync("connected");
        await dashboard.WaitForLogAsync("connected", "1 connected");
        await dashboard.WaitForTextAsync("#metric-nodes", "49");
        Assert.Equal(49, await dashboard.DrawnNodesAsync());
        Assert.Equal("connected", await dashboard.Status.TextContentAsync());
    }

    [Fact]
    public async Task Posted_executions_show_as_events_metrics_and_drawing()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var dashboard = new DashboardPage(await _context.NewPageAsync());
        await dashboard.OpenAsync(server.BaseAddress);
        await dashboard.WaitForStateAsync("connected");

        using var http = server.CreateClient();
        var response = await http.PostAsync(
            "executions",
            RunningServer.Json("""[{"execution_id":"wf-browser-1","tool_ids":["git:status","git:diff","git:commit"],"success":true,"execution_time_ms":42},{"execution_id":"wf-browser-2","tool_ids":["git:status","git:diff"]}]"""),
            Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        await dashboard.WaitForLogAsync("edge_created", "git:status → git:diff");
        await dashboard.WaitForLogAsync("edge_updated", "git:status → git:diff");
        await dashboard.WaitForLogAsync("workflow_executed", "wf-browser-2");
        await dashboard.WaitForTextAsync("#metric-edges", "2");
        await dashboard.WaitForAsync("#pagerank-list li[data-tool-id='git:commit']");
        await dashboard.WaitForAsync("#graph line.edge[data-from='git:status'][data-to='git:diff'][data-confidence='0.55']");
        await dashboard.WaitForAsync("#graph line.edge[data-from='git:diff'][data-to='git:commit']");
        await dashboard.WaitForAsync("#graph g.node[data-tool-id='git:commit']");
        Assert.Equal(2, await dashboard.DrawnEdgesAsync());

        // The edge learned twice is drawn wider than the one learned once.
        var twice = float.Parse(await dashboard.Page.Locator("line.edge[data-from='git:status']").GetAttributeAsync("stroke-width") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        var once = float.Parse(await dashboard.Page.Locator("line.edge[data-from='git:diff']").GetAttributeAsync("stroke-width") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(twice > once, $"stroke widths {twice} vs {once}");
    }

    [Fact]
    public async Task After_a_server_restart_on_the_same_port_the_page_reconnects_and_shows_new_events()
    {
        var first = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var port = first.Port;
        var dashboard = new DashboardPage(await _context.NewPageAsync());
        await dashboard.OpenAsync(first.BaseAddress);
        await dashboard.WaitForStateAsync("connected");
        using (var http = first.CreateClient())
        {
            await http.PostAsync("executions", RunningServer.Json("""{"execution_id":"before-restart","tool_ids":["git:pull","shell:build_project"]}"""), Token);
        }

        await dashboard.WaitForLogAsync("workflow_executed", "before-restart");

        await first.StopAsync();
        await dashboard.WaitForStateAsync("reconnecting");

        // The page resumes with its id: the new process continues the same log (the database's),
        // so it replays the gap, the new run's graph_synced, and the page reloads the snapshot.
        var refetched = dashboard.Page.WaitForResponseAsync(r => r.Url.EndsWith("/graph", StringComparison.Ordinal) && r.Status == 200, new PageWaitForResponseOptions { Timeout = DashboardPage.Timeout });
        await using var second = await RunningServer.StartAsync(_database.Path, port, Settings());
        await dashboard.WaitForStateAsync("connected");
        await dashboard.WaitForLogAsync("graph_synced", "");
        await refetched;
        Assert.Equal(0, await dashboard.Page.Locator("#event-log li[data-event-type='events_lost']").CountAsync());
        using var again = second.CreateClient();
        await again.PostAsync("executions", RunningServer.Json("""{"execution_id":"after-restart","tool_ids":["shell:build_project","shell:run_tests"]}"""), Token);

        await dashboard.WaitForLogAsync("workflow_executed", "after-restart");
        await dashboard.WaitForAsync("#graph line.edge[data-from='shell:build_project'][data-to='shell:run_tests']");
        // The edge learned before the restart came back from the database.
        await dashboard.WaitForAsync("#graph line.edge[data-from='git:pull'][data-to='shell:build_project']");
        await dashboard.WaitForTextAsync("#metric-edges", "2");
    }

    [Fact]
    public async Task After_a_503_the_page_recreates_its_stream_once_a_slot_is_free()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings(("GraphEvents:MaxSubscribers", "1")));
        using var holder = server.CreateClient();
        var held = await holder.GetAsync("events/stream", HttpCompletionOption.ResponseHeadersRead, Token);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);

        var dashboard = new DashboardPage(await _context.NewPageAsync());
        var refused = dashboard.Page.WaitForResponseAsync(r => r.Url.Contains("/events/stream", StringComparison.Ordinal) && r.Status == 503, new PageWaitForResponseOptions { Timeout = DashboardPage.Timeout });
        await dashboard.OpenAsync(server.BaseAddress);
        await refused;
        await dashboard.WaitForStateAsync("reconnecting");

        held.Dispose(); // frees the one slot
        await dashboard.WaitForStateAsync("connected");
        await holder.PostAsync("executions", RunningServer.Json("""{"execution_id":"after-503","tool_ids":["slack:read_thread","slack:add_reaction"]}"""), Token);
        await dashboard.WaitForLogAsync("workflow_executed", "after-503");
    }

    [Fact]
    public async Task Across_stream_lifetimes_the_page_reconnects_by_itself_and_misses_no_event()
    {
        // The shortest lifetime: the server ends the page's stream every second or so, and the
        // browser's EventSource reconnects after retry: with Last-Event-ID, as after a dropped connection.
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings(("GraphEvents:Stream:MaxStreamDuration", "00:00:01")));
        var dashboard = new DashboardPage(await _context.NewPageAsync());
        var streams = 0;
        dashboard.Page.Request += (_, request) =>
        {
            if (request.Url.Contains("/events/stream", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref streams);
            }
        };
        await dashboard.OpenAsync(server.BaseAddress);
        await dashboard.WaitForStateAsync("connected");

        // Paced over about four lifetimes, so that executions land in reconnect gaps too.
        const int Executions = 30;
        using var http = server.CreateClient();
        for (var i = 0; i < Executions; i++)
        {
            var body = $$"""{"execution_id":"life-{{i:D3}}x","tool_ids":["git:status","git:commit"]}""";
            using var posted = await http.PostAsync("executions", RunningServer.Json(body), Token);
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            await Task.Delay(130, Token);
        }

        await dashboard.WaitForLogAsync("workflow_executed", $"life-{Executions - 1:D3}x");
        var logged = await dashboard.Page.EvalOnSelectorAllAsync<string[]>("#event-log li[data-event-type='workflow_executed']", "items => items.map(li => li.textContent)");
        for (var i = 0; i < Executions; i++)
        {
            var id = $"life-{i:D3}x";
            var times = logged.Count(text => text.Contains(id, StringComparison.Ordinal));
            Assert.True(times == 1, $"{id} was logged {times} times.");
        }

        Assert.Equal(0, await dashboard.Page.Locator("#event-log li[data-event-type='events_lost']").CountAsync());
        Assert.True(Volatile.Read(ref streams) >= 3, $"The page opened {streams} streams: the lifetime did not end them.");
    }

    [Fact]
    public async Task A_screenshot_of_a_learned_graph_is_saved()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var dashboard = new DashboardPage(await _context.NewPageAsync());
        await dashboard.OpenAsync(server.BaseAddress);
        await dashboard.WaitForStateAsync("connected");

        // Sixty executions of the built-in simulator with a fixed seed: the same picture every run.
        var engine = server.Services.GetRequiredService<IToolGraphEngine>();
        var simulator = server.Services.GetRequiredService<WorkflowSimulator>();
        var random = new Random(2026);
        for (var i = 1; i <= 60; i++)
        {
            await engine.UpdateFromExecutionAsync(simulator.Next(random, i), Token);
        }

        var edges = engine.Snapshot.Edges.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await dashboard.WaitForTextAsync("#metric-edges", edges);
        await dashboard.Page.WaitForFunctionAsync(
            "edges => document.getElementById('graph').dataset.edgeCount === edges && document.getElementById('graph').dataset.settled === 'true'",
            edges,
            new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 100 });

        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await dashboard.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        Assert.True(new FileInfo(path).Length > 10_000);
        TestContext.Current.AddAttachment("screenshot", path);
    }
}
