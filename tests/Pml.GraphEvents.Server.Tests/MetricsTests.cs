using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>GET /metrics on the real server: our counters after real traffic, Kestrel's, ASP.NET Core's and the runtime's beside them.</summary>
[Collection(RunsAlone.Name)]
public sealed class MetricsTests
{
    private const string Published = "pml_graph_events_events_published_total";
    private const string Delivered = "pml_graph_events_frames_delivered_total";
    private const string Subscribers = "pml_graph_events_subscribers";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    // No heartbeat during the test: every event broadcast is one the test caused and saw.
    private static readonly Dictionary<string, string> QuietSettings = new() { ["GraphEvents:HeartbeatInterval"] = "1.00:00:00" };

    [Fact]
    public async Task The_counters_on_metrics_match_the_events_a_stream_received_after_posts()
    {
        await using var server = await RunningServer.StartAsync(settings: QuietSettings);
        using var http = server.CreateClient();
        await server.BroadcastMarkerAsync(); // the start-up events are all broadcast before we count

        var stream = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal("connected", (await stream.ReadAsync()).EventType); // this connection's own, not a broadcast
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().SubscriberCount == 1, "the stream subscribed");
        var before = await ScrapeAsync(http);
        Assert.Equal(1, before.Value(Subscribers));

        var response = await http.PostAsync(
            "executions",
            RunningServer.Json("""
                [{"execution_id":"m1","tool_ids":["git:status","git:diff","git:commit"],"success":true,"execution_time_ms":12},
                 {"execution_id":"m2","tool_ids":["git:status","git:diff"]}]
                """),
            Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        // The executions are learned after the 202: wait for the graph to hold them, then a marker
        // queues behind every event they made, so the stream's frames before it are all of them.
        var engine = server.Services.GetRequiredService<IToolGraphEngine>();
        await Eventually.HoldsAsync(
            () => engine.Snapshot.TryGetEdge("git:status", "git:diff", out var edge) && edge.ObservedCount == 2 && engine.Snapshot.TryGetEdge("git:diff", "git:commit", out _),
            "both executions learned");
        await server.Broadcaster.PublishAsync(new EdgeCreatedEvent("marker", "x", 0.5, DateTimeOffset.UnixEpoch), Token);
        var received = 0;
        List<string> types = [];
        while (true)
        {
            var item = await stream.ReadAsync();
            received++;
            types.Add(item.EventType);
            if (item.Data.Contains("\"marker\"", StringComparison.Ordinal))
            {
                break;
            }
        }

        // One workflow_executed per posted execution, and the edges they learned.
        Assert.True(types.Count(t => t == "workflow_executed") == 2 && types.Count(t => t is "edge_created" or "edge_updated") >= 3, string.Join(", ", types));
        await stream.DisposeAsync();
        await Eventually.HoldsAsync(() => server.Broadcaster.GetStatistics().SubscriberCount == 0, "the stream closed");

        // Exact: every event broadcast since the first scrape reached the one stream, and nothing else
        // was broadcast. Scrapes are retried because the exporter may answer from its short cache.
        PrometheusText after = null!;
        await Eventually.TrueAsync(
            async () =>
            {
                after = await ScrapeAsync(http);
                return after.Value(Subscribers) == 0;
            },
            "the scrape shows the stream closed");
        Assert.Equal(received, after.Value(Published) - before.Value(Published));
        Assert.Equal(received, after.Value(Delivered) - before.Value(Delivered));
        Assert.Equal(server.Broadcaster.GetStatistics().EventsPublished, after.Value(Published));
        Assert.Equal(0, after.Value("pml_graph_events_events_failed_total"));
        Assert.Equal(0, after.Value("pml_graph_events_frames_dropped_total"));
        Assert.Equal(0, after.Value("pml_graph_events_subscriptions_evicted_total", ("reason", "lagging")));
        Assert.Equal(0, after.Value("pml_graph_events_subscriptions_evicted_total", ("reason", "write_timeout")));
        Assert.Equal("counter", after.Types[Published]);
        Assert.Equal("gauge", after.Types[Subscribers]);

        // The stream's frames were written, so the delivery histogram has one observation per frame.
        Assert.Equal(received, after.Value("pml_graph_events_delivery_duration_seconds_count") - Count(before, "pml_graph_events_delivery_duration_seconds_count"));

        // ASP.NET Core's request duration for the POST, Kestrel's connections, the runtime's GC.
        Assert.True(after.Samples.Any(s => s.Name == "http_server_request_duration_seconds_count"
            && s.Labels.GetValueOrDefault("http_route") == "/executions" && s.Labels.GetValueOrDefault("http_response_status_code") == "202" && s.Value >= 1), "ASP.NET Core's request duration for POST /executions");
        Assert.True(after.Has("kestrel_active_connections"), "Kestrel's meter");
        Assert.True(after.Has("dotnet_gc_collections_total"), "the runtime's meter");
    }

    [Fact]
    public async Task Metrics_off_serves_no_metrics_endpoint()
    {
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string> { ["Server:Metrics"] = "false" });
        using var http = server.CreateClient();
        using var response = await http.GetAsync("metrics", Token);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_metrics_setting_that_is_not_a_boolean_stops_the_start()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunningServer.StartAsync(settings: new Dictionary<string, string> { ["Server:Metrics"] = "yes" }));
        Assert.Contains("Server:Metrics", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_need_no_api_key_but_a_foreign_host_is_refused()
    {
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string> { ["Server:ApiKey"] = "0123456789abcdef0123", ["Server:AllowedHosts"] = "metrics.example" });
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Host = "metrics.example";
        using var allowed = await http.SendAsync(request, Token);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.True(PrometheusText.Parse(await allowed.Content.ReadAsStringAsync(Token)).Has(Published));

        using var foreign = new HttpRequestMessage(HttpMethod.Get, "metrics");
        foreign.Headers.Host = "rebound.example";
        using var refused = await http.SendAsync(foreign, Token);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    private static double Count(PrometheusText text, string name) => text.Has(name) ? text.Value(name) : 0;

    private static async Task<PrometheusText> ScrapeAsync(HttpClient http)
    {
        using var response = await http.GetAsync("metrics", Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync(Token));
    }
}
