using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Pml.GraphEvents.Server;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Browser.Tests;

/// <summary>
/// The dashboard explored in real Chromium against the real server: a tool's panel with the tools
/// that follow and precede it (probabilities as DESIGN §9 defines them, live and as the server
/// answers), the likely chains between two tools on the drawing, search, the metric charts, and
/// all of it still working after the page reloads on <c>events_lost</c> and across stream
/// reconnects, with nothing failing in the console.
/// </summary>
public sealed class ExploreDashboardTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private const double Tolerance = 1e-9;

    private readonly TempDatabase _database = new();
    private IBrowserContext _context = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

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
        _context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1500, Height = 1000 } });
    }

    public async ValueTask DisposeAsync()
    {
        await _context.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task Clicking_a_tool_shows_its_details_and_what_follows_and_precedes_it()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var dashboard = await OpenAsync(server);
        var problems = new PageProblems(dashboard.Page);
        using var http = server.CreateClient();

        await PostAsync(http,
            """{"execution_id":"p1","tool_ids":["git:status","git:diff","git:commit"]}""",
            """{"execution_id":"p2","tool_ids":["git:status","git:diff"]}""",
            """{"execution_id":"p3","tool_ids":["git:status","git:add"]}""",
            """{"execution_id":"p4","tool_ids":["git:pull","git:diff"]}""");
        await dashboard.WaitForTextAsync("#metric-edges", "4");
        await WaitSettledAsync(dashboard);

        // On the drawing.
        await dashboard.Page.Locator("#graph g.node[data-tool-id='git:diff'] > circle").ClickAsync(new LocatorClickOptions { Timeout = DashboardPage.Timeout });
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='git:diff']:not([hidden])");
        await dashboard.WaitForAsync("#graph g.node.selected[data-tool-id='git:diff']");
        Assert.Equal("git:diff", await dashboard.Page.Locator("#tool-id").TextContentAsync());
        Assert.False(string.IsNullOrWhiteSpace(await dashboard.Page.Locator("#tool-name").TextContentAsync()));
        Assert.NotEqual("—", await dashboard.Page.Locator("#tool-server").TextContentAsync());
        Assert.Matches(@"^\d\.\d{4}$", await dashboard.Page.Locator("#tool-pagerank").TextContentAsync());
        Assert.Matches(@"^\d+$", await dashboard.Page.Locator("#tool-community").TextContentAsync());

        // Probabilities of the steps, from what was posted: confidence over the source's outgoing total.
        await AssertTransitionsAsync(dashboard, http, "git:diff");
        Assert.Equal(["git:commit"], await ToolIdsAsync(dashboard, "#tool-next li[data-tool-id]"));
        Assert.Equal(["git:pull", "git:status"], await ToolIdsAsync(dashboard, "#tool-previous li[data-tool-id]"));

        // The server's answer shows too, and agrees.
        await AssertServerAnswersAsync(dashboard, http, "git:diff");

        // Live: a new step out of git:diff, and one more into git:add (which moves git:status's share).
        await PostAsync(http,
            """{"execution_id":"p5","tool_ids":["git:diff","shell:run_tests"]}""",
            """{"execution_id":"p6","tool_ids":["git:status","git:add"]}""");
        await dashboard.WaitForAsync("#tool-next li[data-tool-id='shell:run_tests']");
        await dashboard.WaitForTextAsync("#metric-edges", "5");
        await AssertTransitionsAsync(dashboard, http, "git:diff");
        await AssertServerAnswersAsync(dashboard, http, "git:diff");

        // In the lists: a tool in the panel, then one in the PageRank list.
        await dashboard.Page.Locator("#tool-next li[data-tool-id='git:commit']").ClickAsync();
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='git:commit']");
        await AssertTransitionsAsync(dashboard, http, "git:commit");
        var ranked = await dashboard.Page.Locator("#pagerank-list li").First.GetAttributeAsync("data-tool-id");
        await dashboard.Page.Locator("#pagerank-list li").First.ClickAsync();
        await dashboard.WaitForAsync($"#tool-panel[data-tool-id='{ranked}']");
        await AssertServerAnswersAsync(dashboard, http, ranked!);

        Assert.Empty(problems.All);
    }

    [Fact]
    public async Task Picking_two_tools_highlights_their_likely_chains_and_lists_them()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var dashboard = await OpenAsync(server);
        var problems = new PageProblems(dashboard.Page);
        using var http = server.CreateClient();

        await PostAsync(http,
            """{"execution_id":"c1","tool_ids":["git:status","git:diff","git:commit"]}""",
            """{"execution_id":"c2","tool_ids":["git:status","git:diff","git:commit"]}""",
            """{"execution_id":"c3","tool_ids":["git:status","git:add","git:commit"]}""",
            """{"execution_id":"c4","tool_ids":["slack:read_thread","slack:add_reaction"]}""");
        await dashboard.WaitForTextAsync("#metric-edges", "5");
        await WaitSettledAsync(dashboard);

        // Click one, shift-click the other.
        await dashboard.Page.Locator("#graph g.node[data-tool-id='git:status'] > circle").ClickAsync(new LocatorClickOptions { Timeout = DashboardPage.Timeout });
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='git:status']");
        await dashboard.Page.Locator("#graph g.node[data-tool-id='git:commit'] > circle").ClickAsync(new LocatorClickOptions { Modifiers = [KeyboardModifier.Shift], Timeout = DashboardPage.Timeout });
        await dashboard.WaitForAsync("#paths-status[data-state='ok']");
        Assert.Equal("git:status", await dashboard.Page.Locator("#path-from").InputValueAsync());
        Assert.Equal("git:commit", await dashboard.Page.Locator("#path-to").InputValueAsync());

        // Listed as the server answers, most likely first.
        using var expected = JsonDocument.Parse(await http.GetStringAsync("graph/paths?from=git:status&to=git:commit&k=3", Token));
        var paths = expected.RootElement.GetProperty("paths").EnumerateArray().ToArray();
        Assert.Equal(2, paths.Length);
        var listed = await dashboard.Page.EvalOnSelectorAllAsync<string[][]>("#paths-list li", "items => items.map(li => [li.dataset.toolIds, li.dataset.probability])");
        Assert.Equal(paths.Length, listed.Length);
        for (var i = 0; i < paths.Length; i++)
        {
            Assert.Equal(string.Join(' ', paths[i].GetProperty("tool_ids").EnumerateArray().Select(t => t.GetString())), listed[i][0]);
            Assert.Equal(paths[i].GetProperty("probability").GetDouble(), double.Parse(listed[i][1], CultureInfo.InvariantCulture), Tolerance);
        }

        Assert.Equal("git:status git:diff git:commit", listed[0][0]);

        // The best chain is emphasised on the drawing, everything else dimmed.
        await dashboard.WaitForAsync("#graph.has-path");
        await AssertOnPathAsync(dashboard, ["git:status", "git:diff", "git:commit"]);

        // Choosing the other chain in the list emphasises it instead.
        await dashboard.Page.Locator("#paths-list li[data-index='1']").ClickAsync();
        await dashboard.WaitForAsync("#graph line.edge.on-path[data-from='git:status'][data-to='git:add']");
        await AssertOnPathAsync(dashboard, ["git:status", "git:add", "git:commit"]);

        // With the selectors, a tool that cannot be reached: "no chain", nothing emphasised.
        await dashboard.Page.Locator("#path-to").SelectOptionAsync("slack:add_reaction");
        await dashboard.WaitForAsync("#paths-status[data-state='none']");
        Assert.Contains("no chain", await dashboard.Page.Locator("#paths-status").TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await dashboard.Page.Locator("#paths-list li").CountAsync());
        Assert.Equal(0, await dashboard.Page.Locator("#graph.has-path").CountAsync());

        Assert.Empty(problems.All);
    }

    [Fact]
    public async Task The_search_box_filters_and_highlights_tools_and_Enter_selects_the_first()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var dashboard = await OpenAsync(server);
        var problems = new PageProblems(dashboard.Page);
        using var http = server.CreateClient();
        using var graph = JsonDocument.Parse(await http.GetStringAsync("graph", Token));
        var gitTools = graph.RootElement.GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("id").GetString()!.Contains("git:", StringComparison.OrdinalIgnoreCase) || (n.GetProperty("name").GetString() ?? "").Contains("git:", StringComparison.OrdinalIgnoreCase))
            .Select(n => n.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(gitTools);

        var search = dashboard.Page.Locator("#search");
        await search.FillAsync("git:");
        await dashboard.WaitForAsync($"#search[data-match-count='{gitTools.Length}']");
        var highlighted = await dashboard.Page.EvalOnSelectorAllAsync<string[]>("#graph g.node.match", "nodes => nodes.map(n => n.dataset.toolId)");
        Assert.Equal(gitTools, highlighted.Order(StringComparer.Ordinal).ToArray());
        await dashboard.WaitForAsync("#graph.searching");

        await search.FillAsync("git:comm");
        await dashboard.WaitForAsync("#search-results li[data-tool-id='git:commit']");
        await search.PressAsync("Enter");
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='git:commit']:not([hidden])");

        // A click on a result selects it too.
        await search.FillAsync("slack:read");
        await dashboard.Page.Locator("#search-results li[data-tool-id='slack:read_thread']").ClickAsync();
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='slack:read_thread']");

        await search.FillAsync("no-such-tool-anywhere");
        await dashboard.WaitForAsync("#search[data-match-count='0']");
        Assert.Equal(0, await dashboard.Page.Locator("#graph g.node.match").CountAsync());

        await search.PressAsync("Escape");
        await dashboard.Page.WaitForSelectorAsync("#graph.searching", new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached, Timeout = DashboardPage.Timeout });
        Assert.Empty(problems.All);
    }

    [Fact]
    public async Task The_charts_get_points_as_executions_arrive()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var dashboard = await OpenAsync(server);
        var problems = new PageProblems(dashboard.Page);
        using var http = server.CreateClient();

        // The loaded snapshot is the first point.
        await dashboard.WaitForAsync("#chart-edges[data-last='0']");
        await PostAsync(http,
            """{"execution_id":"m1","tool_ids":["git:status","git:diff","git:commit"]}""",
            """{"execution_id":"m2","tool_ids":["git:pull","shell:build_project","shell:run_tests"]}""");
        await dashboard.WaitForAsync("#chart-edges[data-last='4']");
        using var graph = JsonDocument.Parse(await http.GetStringAsync("graph", Token));
        var metrics = graph.RootElement.GetProperty("metrics");
        await dashboard.WaitForAsync($"#chart-communities[data-last='{metrics.GetProperty("communities_count").GetInt32()}']");
        var density = double.Parse(await dashboard.Page.Locator("#chart-density").GetAttributeAsync("data-last") ?? "nan", CultureInfo.InvariantCulture);
        Assert.Equal(metrics.GetProperty("density").GetDouble(), density, Tolerance);
        Assert.True(await PointsAsync(dashboard, "#chart-edges") >= 2);

        // Events per second: a point every second, and some of them counted these executions.
        await dashboard.Page.WaitForFunctionAsync("() => Number(document.getElementById('chart-rate').dataset.max) > 0", null, new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 100 });
        var rate = await PointsAsync(dashboard, "#chart-rate");
        await dashboard.Page.WaitForFunctionAsync("n => Number(document.getElementById('chart-rate').dataset.points) > n", rate, new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 100 });
        foreach (var chart in new[] { "#chart-edges", "#chart-density", "#chart-communities", "#chart-rate" })
        {
            Assert.False(string.IsNullOrEmpty(await dashboard.Page.Locator($"{chart} path.line").GetAttributeAsync("d")), chart);
        }

        Assert.Empty(problems.All);
    }

    [Fact]
    public async Task After_events_lost_and_across_reconnects_exploring_keeps_working_and_nothing_fails()
    {
        // Streams that end every second: the browser reconnects by itself throughout the session.
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings(("GraphEvents:Stream:MaxStreamDuration", "00:00:01")));
        var dashboard = new DashboardPage(await _context.NewPageAsync());
        var problems = new PageProblems(dashboard.Page);

        // Keeps the page's EventSource at hand, to hand it an events_lost as the server would.
        await dashboard.Page.AddInitScriptAsync("""
            const NativeEventSource = window.EventSource;
            window.EventSource = class extends NativeEventSource {
              constructor(...args) { super(...args); window.__source = this; }
            };
            """);
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
        using var http = server.CreateClient();

        using (var favicon = await http.GetAsync("favicon.svg", Token))
        {
            Assert.Equal(HttpStatusCode.OK, favicon.StatusCode);
            Assert.Equal("image/svg+xml", favicon.Content.Headers.ContentType?.MediaType);
        }

        await PostAsync(http,
            """{"execution_id":"s1","tool_ids":["git:status","git:diff","git:commit"]}""",
            """{"execution_id":"s2","tool_ids":["git:status","git:add","git:commit"]}""");
        await dashboard.WaitForTextAsync("#metric-edges", "4");

        await dashboard.Page.Locator("#search").FillAsync("git:status");
        await dashboard.Page.Locator("#search").PressAsync("Enter");
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='git:status']");
        await dashboard.Page.Locator("#path-to").SelectOptionAsync("git:commit");
        await dashboard.Page.Locator("#chain-from-here").ClickAsync();
        await dashboard.WaitForAsync("#paths-status[data-state='ok']");
        await AssertServerAnswersAsync(dashboard, http, "git:status");

        // events_lost: the page loads /graph again and streams from its id; what was selected stays.
        var reloaded = dashboard.Page.WaitForResponseAsync(r => r.Url.EndsWith("/graph", StringComparison.Ordinal) && r.Status == 200, new PageWaitForResponseOptions { Timeout = DashboardPage.Timeout });
        await dashboard.Page.EvaluateAsync("""() => window.__source.dispatchEvent(new MessageEvent("events_lost", { data: JSON.stringify({ reason: "forced_by_test", timestamp: new Date().toISOString() }) }))""");
        await reloaded;
        await dashboard.WaitForLogAsync("events_lost", "forced_by_test");
        await dashboard.WaitForStateAsync("connected");
        Assert.Equal("git:status", await dashboard.Page.Locator("#tool-panel").GetAttributeAsync("data-tool-id"));

        // After it, and across the stream's reconnects, the panel, the chains and the charts follow new executions.
        var before = Volatile.Read(ref streams);
        await PostAsync(http, """{"execution_id":"s3","tool_ids":["git:status","git:checkout","git:commit"]}""");
        await dashboard.WaitForAsync("#tool-next li[data-tool-id='git:checkout']");
        await dashboard.WaitForAsync("#chart-edges[data-last='6']");
        await AssertTransitionsAsync(dashboard, http, "git:status");
        await dashboard.WaitForAsync("#paths-list li[data-tool-ids='git:status git:checkout git:commit']");
        await dashboard.Page.WaitForFunctionAsync("n => document.querySelectorAll('#event-log li[data-event-type=connected]').length > n", 2, new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 100 });
        await PostAsync(http, """{"execution_id":"s4","tool_ids":["git:status","git:push"]}""");
        await dashboard.WaitForAsync("#tool-next li[data-tool-id='git:push']");
        await AssertTransitionsAsync(dashboard, http, "git:status");
        await AssertServerAnswersAsync(dashboard, http, "git:status");
        Assert.True(Volatile.Read(ref streams) > before, "the stream never reconnected during the session");

        Assert.Empty(problems.All);
    }

    [Fact]
    public async Task When_the_server_comes_back_with_another_database_the_panel_shows_the_new_graph()
    {
        // A real events_lost (unknown_last_event_id): the page resumes with an id of the old log.
        var first = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var port = first.Port;
        var dashboard = await OpenAsync(first);
        using (var http = first.CreateClient())
        {
            await PostAsync(http, """{"execution_id":"old-1","tool_ids":["git:status","git:diff","git:commit"]}""");
        }

        await dashboard.WaitForTextAsync("#metric-edges", "2");
        await dashboard.Page.Locator("#search").FillAsync("git:diff");
        await dashboard.Page.Locator("#search").PressAsync("Enter");
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='git:diff'] #tool-next li[data-tool-id='git:commit']");
        await first.StopAsync();
        await dashboard.WaitForStateAsync("reconnecting");

        using var other = new TempDatabase();
        await using var second = await RunningServer.StartAsync(other.Path, port, Settings());
        await dashboard.WaitForLogAsync("events_lost", "unknown_last_event_id");
        await dashboard.WaitForStateAsync("connected");
        await dashboard.WaitForTextAsync("#metric-edges", "0");

        // The new graph has none of the old edges: the panel says so, and follows the new ones.
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='git:diff'] #tool-next li.empty");
        using var again = second.CreateClient();
        await PostAsync(again, """{"execution_id":"new-1","tool_ids":["git:pull","git:diff","shell:run_tests"]}""");
        await dashboard.WaitForAsync("#tool-next li[data-tool-id='shell:run_tests']");
        await AssertTransitionsAsync(dashboard, again, "git:diff");
        await AssertServerAnswersAsync(dashboard, again, "git:diff");
    }

    [Fact]
    public async Task A_screenshot_of_the_explorable_dashboard_is_saved()
    {
        await using var server = await RunningServer.StartAsync(_database.Path, settings: Settings());
        var dashboard = await OpenAsync(server);

        // The built-in simulator with a fixed seed: the same picture every run.
        var engine = server.Services.GetRequiredService<IToolGraphEngine>();
        var simulator = server.Services.GetRequiredService<WorkflowSimulator>();
        var random = new Random(2026);
        for (var i = 1; i <= 60; i++)
        {
            await engine.UpdateFromExecutionAsync(simulator.Next(random, i), Token);
        }

        var edges = engine.Snapshot.Edges.Count.ToString(CultureInfo.InvariantCulture);
        await dashboard.WaitForTextAsync("#metric-edges", edges);

        await dashboard.Page.Locator("#search").FillAsync("git:diff");
        await dashboard.Page.Locator("#search").PressAsync("Enter");
        await dashboard.WaitForAsync("#tool-panel[data-tool-id='git:diff']");
        await dashboard.Page.Locator("#search").PressAsync("Escape");
        await dashboard.Page.Locator("#path-from").SelectOptionAsync("git:status");
        await dashboard.Page.Locator("#path-to").SelectOptionAsync("git:push");
        await dashboard.WaitForAsync("#paths-status[data-state='ok']");
        await dashboard.WaitForAsync("#tool-next-server[data-state='ok']");
        await dashboard.Page.WaitForFunctionAsync(
            "() => Number(document.getElementById('chart-rate').dataset.points) >= 5",
            null,
            new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 100 });
        await WaitSettledAsync(dashboard);

        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", "dashboard-explore.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await dashboard.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        Assert.True(new FileInfo(path).Length > 10_000);
        TestContext.Current.AddAttachment("screenshot", path);

        // PML_DOCS=<the repository's docs folder> refreshes docs/dashboard-explore.png from this run.
        if (Environment.GetEnvironmentVariable("PML_DOCS") is { Length: > 0 } docs)
        {
            File.Copy(path, Path.Combine(docs, "dashboard-explore.png"), overwrite: true);
        }
    }

    private async Task<DashboardPage> OpenAsync(TestHost server)
    {
        var dashboard = new DashboardPage(await _context.NewPageAsync());
        await dashboard.OpenAsync(server.BaseAddress);
        await dashboard.WaitForStateAsync("connected");
        return dashboard;
    }

    private static async Task PostAsync(HttpClient http, params string[] executions)
    {
        using var response = await http.PostAsync("executions", RunningServer.Json($"[{string.Join(',', executions)}]"), Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task WaitSettledAsync(DashboardPage dashboard) =>
        await dashboard.Page.WaitForFunctionAsync(
            "() => document.getElementById('graph').dataset.settled === 'true'",
            null,
            new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 100 });

    private static async Task<int> PointsAsync(DashboardPage dashboard, string chart) =>
        int.Parse(await dashboard.Page.Locator(chart).GetAttributeAsync("data-points") ?? "0", CultureInfo.InvariantCulture);

    private static async Task<string[]> ToolIdsAsync(DashboardPage dashboard, string selector) =>
        (await dashboard.Page.EvalOnSelectorAllAsync<string[]>(selector, "items => items.map(li => li.dataset.toolId)")).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// The panel's follow and precede probabilities equal DESIGN §9's definition computed here from
    /// the server's edges: confidence(A→B) over the sum of the confidences out of A. Waits until the
    /// page has the edges the server has, then compares.
    /// </summary>
    private static async Task AssertTransitionsAsync(DashboardPage dashboard, HttpClient http, string tool)
    {
        using var graph = JsonDocument.Parse(await http.GetStringAsync("graph", Token));
        var edges = graph.RootElement.GetProperty("edges").EnumerateArray()
            .Select(e => (From: e.GetProperty("from").GetString()!, To: e.GetProperty("to").GetString()!, Confidence: e.GetProperty("confidence").GetDouble()))
            .ToArray();
        await dashboard.WaitForTextAsync("#metric-edges", edges.Length.ToString(CultureInfo.InvariantCulture));
        await dashboard.Page.WaitForFunctionAsync(
            "n => document.getElementById('graph').dataset.edgeCount === String(n)", edges.Length,
            new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 50 });
        var totals = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Sum(e => e.Confidence));
        var next = edges.Where(e => e.From == tool).ToDictionary(e => e.To, e => e.Confidence / totals[e.From]);
        var previous = edges.Where(e => e.To == tool).ToDictionary(e => e.From, e => e.Confidence / totals[e.From]);

        await AssertListAsync(dashboard, "#tool-next li[data-tool-id]", next);
        await AssertListAsync(dashboard, "#tool-previous li[data-tool-id]", previous);
    }

    private static async Task AssertListAsync(DashboardPage dashboard, string selector, Dictionary<string, double> expected)
    {
        // The panel renders on the next frame after the last edge event: wait for the right tools first.
        await dashboard.Page.WaitForFunctionAsync(
            "([selector, ids]) => { const shown = Array.from(document.querySelectorAll(selector), li => li.dataset.toolId).sort(); return JSON.stringify(shown) === JSON.stringify(ids); }",
            new object[] { selector, expected.Keys.Order(StringComparer.Ordinal).ToArray() },
            new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 50 });
        var shown = await dashboard.Page.EvalOnSelectorAllAsync<string[][]>(selector, "items => items.map(li => [li.dataset.toolId, li.dataset.probability, li.textContent])");
        var probabilities = shown.Select(s => double.Parse(s[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(probabilities.OrderDescending(), probabilities); // most probable first
        foreach (var item in shown)
        {
            Assert.Equal(expected[item[0]], double.Parse(item[1], CultureInfo.InvariantCulture), Tolerance);
            Assert.Contains((expected[item[0]] * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %", item[2], StringComparison.Ordinal);
        }
    }

    /// <summary>The panel's "server:" lines show what GET /graph/next and /graph/previous answer now.</summary>
    private static async Task AssertServerAnswersAsync(DashboardPage dashboard, HttpClient http, string tool)
    {
        foreach (var (endpoint, property, element) in new[] { ("next", "next", "#tool-next-server"), ("previous", "previous", "#tool-previous-server") })
        {
            using var answer = JsonDocument.Parse(await http.GetStringAsync($"graph/{endpoint}?tool={Uri.EscapeDataString(tool)}&k=5", Token));
            var expected = answer.RootElement.GetProperty(property).EnumerateArray()
                .Select(t => $"{t.GetProperty("tool_id").GetString()}={t.GetProperty("probability").GetDouble().ToString("R", CultureInfo.InvariantCulture)}")
                .ToArray();
            // The page asks after a quiet moment: wait until it shows this answer.
            await dashboard.Page.WaitForFunctionAsync(
                "([selector, expected, tool]) => { const el = document.querySelector(selector); if (!el || el.dataset.state !== 'ok' || document.getElementById('tool-panel').dataset.toolId !== tool) return false; const shown = Array.from(el.querySelectorAll('[data-tool-id]'), s => `${s.dataset.toolId}=${Number(s.dataset.probability)}`); return JSON.stringify(shown) === JSON.stringify(expected.map(e => { const [id, p] = e.split('='); return `${id}=${Number(p)}`; })); }",
                new object[] { element, expected, tool },
                new PageWaitForFunctionOptions { Timeout = DashboardPage.Timeout, PollingInterval = 50 });
        }
    }

    private static async Task AssertOnPathAsync(DashboardPage dashboard, string[] chain)
    {
        var onPath = await dashboard.Page.EvalOnSelectorAllAsync<string[]>("#graph g.node.on-path", "nodes => nodes.map(n => n.dataset.toolId)");
        Assert.Equal(chain.Order(StringComparer.Ordinal), onPath.Order(StringComparer.Ordinal));
        var edgesOnPath = await dashboard.Page.EvalOnSelectorAllAsync<string[]>("#graph line.edge.on-path", "lines => lines.map(l => `${l.dataset.from}>${l.dataset.to}`)");
        Assert.Equal(chain.Zip(chain.Skip(1), (a, b) => $"{a}>{b}").Order(StringComparer.Ordinal), edgesOnPath.Order(StringComparer.Ordinal));

        // Dimmed: what is not on the chain.
        var dimmed = await dashboard.Page.EvaluateAsync<double>("() => Number(getComputedStyle(document.querySelector('#graph g.node:not(.on-path)')).opacity)");
        var emphasised = await dashboard.Page.EvaluateAsync<double>("() => Number(getComputedStyle(document.querySelector('#graph g.node.on-path')).opacity)");
        Assert.True(dimmed < 0.5 && emphasised > 0.9, $"opacity {dimmed} off the chain, {emphasised} on it");
    }
}
