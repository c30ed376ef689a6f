using System.Globalization;
using System.Net;
using Microsoft.Playwright;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Browser.Tests;

/// <summary>
/// The dashboard loads the way docs/events.md tells every client to: <c>GET /graph</c>, then the
/// stream from its <c>as_of_event_id</c>. Opened in real Chromium while executions are posted
/// concurrently, it ends with exactly the server's edges and counts: nothing missed and nothing
/// counted twice between its fetch and its stream.
/// </summary>
public sealed class AsOfDashboardTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private readonly TempDatabase _database = new();
    private IBrowserContext _context = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

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
    public async Task A_page_opened_during_concurrent_ingest_ends_with_exactly_the_servers_edges()
    {
        const int Posters = 4;
        const int PostsEach = 25;
        const int FreeRounds = 10;

        await using var server = await RunningServer.StartAsync(_database.Path);
        using var http = server.CreateClient();
        var start = await GetGraphAsync(http);

        // A few of the catalog's tools, so that most observations update an edge rather than create one.
        var tools = start.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).Take(8).ToArray();
        var startAsOf = start.RootElement.GetProperty("as_of_event_id").GetString()!;

        var posted = 0;
        var pageLoaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task PostRoundsAsync(int poster)
        {
            var random = new Random(2_000 + poster);
            using var client = server.CreateClient();
            for (var round = 0; round < PostsEach; round++)
            {
                // The later rounds wait for the page's GET /graph: its snapshot is then taken in the
                // middle of ingest, and its stream opens while executions are still being posted.
                if (round == FreeRounds)
                {
                    await pageLoaded.Task.WaitAsync(Eventually.Deadline, Token);
                }

                var executions = new string[2];
                for (var e = 0; e < executions.Length; e++)
                {
                    var chain = tools.OrderBy(_ => random.Next()).Take(random.Next(2, 6)).ToArray();
                    executions[e] = JsonSerializer.Serialize(new { execution_id = $"page-{poster}-{round}-{e}", tool_ids = chain });
                }

                using var response = await client.PostAsync("executions", RunningServer.Json($"[{string.Join(',', executions)}]"), Token);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Interlocked.Increment(ref posted);
            }
        }

        var posters = Enumerable.Range(0, Posters).Select(p => Task.Run(() => PostRoundsAsync(p), Token)).ToArray();

        var dashboard = new DashboardPage(await _context.NewPageAsync());

        // The event log keeps the last 200 lines only, and ingest sends more: count every
        // events_lost the page's EventSource receives, and every stream it opens.
        await dashboard.Page.AddInitScriptAsync("""
            window.__eventsLost = 0;
            const NativeEventSource = window.EventSource;
            window.EventSource = class extends NativeEventSource {
              constructor(...args) {
                super(...args);
                this.addEventListener("events_lost", () => { window.__eventsLost += 1; });
              }
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
        var load = dashboard.Page.WaitForResponseAsync(r => r.Url.EndsWith("/graph", StringComparison.Ordinal), new PageWaitForResponseOptions { Timeout = DashboardPage.Timeout });
        var stream = dashboard.Page.WaitForRequestAsync(r => r.Url.Contains("/events/stream", StringComparison.Ordinal), new PageWaitForRequestOptions { Timeout = DashboardPage.Timeout });
        await Eventually.HoldsAsync(() => Volatile.Read(ref posted) >= FreeRounds, "the first posts before the page opens");
        await dashboard.OpenAsync(server.BaseAddress);

        string loadedAsOf;
        try
        {
            var loaded = await load;
            using (var body = JsonDocument.Parse(await loaded.TextAsync()))
            {
                loadedAsOf = body.RootElement.GetProperty("as_of_event_id").GetString()!;
            }
        }
        finally
        {
            pageLoaded.TrySetResult();
        }

        // The page streams from the id of the snapshot it loaded.
        var streamUrl = new Uri((await stream).Url);
        Assert.Equal("?last_event_id=" + Uri.EscapeDataString(loadedAsOf), streamUrl.Query);

        await Task.WhenAll(posters);
        using var final = await GetGraphAsync(http);
        var finalAsOf = final.RootElement.GetProperty("as_of_event_id").GetString()!;

        // The page loaded strictly during ingest.
        Assert.InRange(Offset(loadedAsOf), Offset(startAsOf) + 1, Offset(finalAsOf) - 1);

        // The page has read up to the last event the final snapshot reflects.
        await dashboard.WaitForTextAsync("#last-event-id", finalAsOf);

        var expected = final.RootElement.GetProperty("edges").EnumerateArray()
            .ToDictionary(e => (e.GetProperty("from").GetString()!, e.GetProperty("to").GetString()!), e => (e.GetProperty("observed_count").GetInt32(), e.GetProperty("confidence").GetDouble()));
        var drawn = await dashboard.Page.EvalOnSelectorAllAsync<string[][]>(
            "#graph line.edge[data-from][data-to][data-observed-count]",
            "lines => lines.map(l => [l.dataset.from, l.dataset.to, l.dataset.observedCount, l.dataset.confidence])");
        var shown = drawn.ToDictionary(
            l => (l[0], l[1]),
            l => (int.Parse(l[2], CultureInfo.InvariantCulture), double.Parse(l[3], CultureInfo.InvariantCulture)));
        Assert.Equal(expected.Count, await dashboard.Page.Locator("#graph line.edge").CountAsync());
        Assert.Equal(expected, shown);

        // One stream, never told it lost events (which would have made the page load again).
        Assert.Equal(0, await dashboard.Page.EvaluateAsync<int>("window.__eventsLost"));
        Assert.Equal(0, await dashboard.Page.Locator("#event-log li[data-event-type='events_lost']").CountAsync());
        Assert.Equal(1, Volatile.Read(ref streams));
    }

    private static async Task<JsonDocument> GetGraphAsync(HttpClient http) =>
        JsonDocument.Parse(await http.GetStringAsync("graph", Token));

    /// <summary>The offset of an id (<c>&lt;epoch&gt;-&lt;offset&gt;</c>): opaque to clients, read here to check the order.</summary>
    private static long Offset(string id) =>
        long.Parse(id.AsSpan(id.IndexOf('-', StringComparison.Ordinal) + 1), NumberStyles.None, CultureInfo.InvariantCulture);
}
