using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>
/// Traces on the real server: a POST with a <c>traceparent</c> is followed from the request through
/// the engine's learn span to the pump's publish span, each the child of the one before, with the
/// ids a stream client saw; and the server pushes them over OTLP to a real HTTP receiver when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Other tests' servers run in the same process, so
/// every check picks this test's spans by its own trace id.
/// </summary>
public sealed class TracingTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_post_is_followed_from_its_traceparent_through_learn_to_publish()
    {
        using var spans = new SpanRecorder("Microsoft.AspNetCore", "Pml.GraphEvents");
        await using var server = await RunningServer.StartAsync();
        using var http = server.CreateClient();
        await server.BroadcastMarkerAsync();
        var stream = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal("connected", (await stream.ReadAsync()).EventType);

        var trace = ActivityTraceId.CreateRandom();
        var caller = ActivitySpanId.CreateRandom();
        const string Body = """
            [{"execution_id":"t1","tool_ids":["git:status","git:diff","git:commit"],"success":true,"execution_time_ms":12},
             {"execution_id":"t2","tool_ids":["git:status","git:diff"]}]
            """;
        using (var post = new HttpRequestMessage(HttpMethod.Post, "executions") { Content = RunningServer.Json(Body) })
        {
            post.Headers.Add("traceparent", $"00-{trace}-{caller}-01");
            using var response = await http.SendAsync(post, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // The stream's frames up to metrics_updated, the last event of the POST's block.
        string? lastId;
        while (true)
        {
            var item = await stream.ReadAsync();
            if (item.EventType == "metrics_updated")
            {
                lastId = item.EventId;
                break;
            }
        }

        await stream.DisposeAsync();
        await Eventually.HoldsAsync(() => spans.Of(trace).Any(s => s.OperationName == "pml.graph_events.publish"), "the publish span");
        await Eventually.HoldsAsync(() => spans.Of(trace).Any(s => s.Source.Name == "Microsoft.AspNetCore"), "the request span");
        var recorded = spans.Of(trace);

        // The request continues the caller's trace; learn is its child; publish is learn's child.
        var request = Assert.Single(recorded, s => s.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(caller, request.ParentSpanId);
        var learn = Assert.Single(recorded, s => s.OperationName == "pml.graph_events.learn");
        Assert.Equal(request.SpanId, learn.ParentSpanId);
        var publish = Assert.Single(recorded, s => s.OperationName == "pml.graph_events.publish");
        Assert.Equal(learn.SpanId, publish.ParentSpanId);

        // In order: the publish starts while learn waits for its commit, after the lock and the plan.
        Assert.True(request.StartTimeUtc <= learn.StartTimeUtc && learn.StartTimeUtc + learn.Duration <= request.StartTimeUtc + request.Duration, "learn within the request");
        Assert.Equal(["locked", "planned"], learn.Events.Select(e => e.Name));
        Assert.True(learn.Events.Last().Timestamp <= publish.StartTimeUtc, "publish after the plan");
        Assert.True(publish.StartTimeUtc <= learn.StartTimeUtc + learn.Duration, "publish starts before learn ends");
        Assert.Equal("appended", Assert.Single(publish.Events).Name);

        // What they say: the batch, and the id of the block's last event, the one the stream saw.
        Assert.Equal(2, learn.GetTagItem("pml.graph_events.executions"));
        Assert.Equal(2, learn.GetTagItem("pml.graph_events.learned"));
        Assert.Equal(0, learn.GetTagItem("pml.graph_events.duplicates"));
        Assert.Equal(lastId, learn.GetTagItem("pml.graph_events.last_event_id"));
        Assert.Equal(lastId, publish.GetTagItem("pml.graph_events.last_event_id"));
        Assert.Equal(learn.GetTagItem("pml.graph_events.events"), publish.GetTagItem("pml.graph_events.events"));
        Assert.True((int)publish.GetTagItem("pml.graph_events.subscribers")! >= 1);
        Assert.All(recorded.Where(s => s.Source.Name == "Pml.GraphEvents"), s => Assert.Equal(ActivityStatusCode.Unset, s.Status));

        // A retry of the same body is answered as duplicates: learned in a span that says so, with
        // nothing committed, so no publish span.
        var retry = ActivityTraceId.CreateRandom();
        using (var post = new HttpRequestMessage(HttpMethod.Post, "executions") { Content = RunningServer.Json(Body) })
        {
            post.Headers.Add("traceparent", $"00-{retry}-{caller}-01");
            using var response = await http.SendAsync(post, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await Eventually.HoldsAsync(() => spans.Of(retry).Any(s => s.Source.Name == "Microsoft.AspNetCore"), "the retry's request span");
        var retried = Assert.Single(spans.Of(retry), s => s.OperationName == "pml.graph_events.learn");
        Assert.Equal(0, retried.GetTagItem("pml.graph_events.learned"));
        Assert.Equal(2, retried.GetTagItem("pml.graph_events.duplicates"));
        Assert.DoesNotContain(spans.Of(retry), s => s.OperationName == "pml.graph_events.publish");
    }

    [Fact]
    public async Task Traces_are_pushed_over_otlp_when_the_endpoint_is_set_without_health_or_scrape_requests()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await RunningServer.StartAsync(settings: receiver.ExporterSettings());
        using var http = server.CreateClient();
        using (var health = await http.GetAsync("healthz", Token))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        using (var scrape = await http.GetAsync("metrics", Token))
        {
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        }

        var trace = ActivityTraceId.CreateRandom();
        var caller = ActivitySpanId.CreateRandom();
        using var post = new HttpRequestMessage(HttpMethod.Post, "executions")
        {
            Content = RunningServer.Json("""{"execution_id":"o1","tool_ids":["git:status","git:diff"]}"""),
        };
        post.Headers.Add("traceparent", $"00-{trace}-{caller}-01");
        using var response = await http.SendAsync(post, Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var id = trace.ToHexString();
        await Eventually.HoldsAsync(() => receiver.Of(id).Count >= 3, () => $"three spans of trace {id} exported (have: {string.Join(", ", receiver.Of(id).Select(s => s.Name))})");
        var spans = receiver.Of(id);
        var request = Assert.Single(spans, s => s.Name == "POST /executions");
        Assert.Equal(caller.ToHexString(), request.ParentSpanId);
        Assert.Equal(2, request.Kind); // server
        var learn = Assert.Single(spans, s => s.Name == "pml.graph_events.learn");
        Assert.Equal(("Pml.GraphEvents", request.SpanId), (learn.Scope, learn.ParentSpanId));
        var publish = Assert.Single(spans, s => s.Name == "pml.graph_events.publish");
        Assert.Equal(learn.SpanId, publish.ParentSpanId);
        Assert.Equal(["appended"], publish.Events);

        // Only what was asked for: no span for the health probe or the scrape, in any export.
        Assert.DoesNotContain(receiver.Spans, s => s.Name.Contains("healthz", StringComparison.Ordinal) || s.Name.Contains("metrics", StringComparison.Ordinal));
    }

    /// <summary>Records every stopped span of the named sources in this process, all data sampled.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ConcurrentQueue<Activity> _stopped = new();
        private readonly ActivityListener _listener;

        public SpanRecorder(params string[] sources)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => sources.Contains(source.Name),
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public List<Activity> Of(ActivityTraceId trace) => [.. _stopped.Where(s => s.TraceId == trace)];

        public void Dispose() => _listener.Dispose();
    }
}
