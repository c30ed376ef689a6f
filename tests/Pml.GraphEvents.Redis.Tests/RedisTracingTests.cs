using System.Diagnostics;
using Pml.GraphEvents.AspNetCore;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// The <c>Pml.GraphEvents.Redis</c> spans on a real redis-server, with an instance in this process:
/// a learner read that holds executions of two POSTs (two traces) cannot be the child of both, so its
/// receive span is a root linked to each; the learn and append spans are its children, and the
/// instance's read of the unit continues the append's trace.
/// </summary>
public sealed class RedisTracingTests : IDisposable
{
    private readonly SpanRecorder _spans = new("Pml.GraphEvents", "Pml.GraphEvents.Redis");

    public void Dispose() => _spans.Dispose();

    [Fact]
    public async Task A_read_of_two_posts_executions_is_received_in_a_root_span_linked_to_both()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = $"test:{Guid.NewGuid():N}";
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);

        // Two POSTs' appends, each in its own trace, before any learner runs: its first read holds both.
        var first = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var second = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var log = new RedisExecutionLog(connection.GetDatabase(), key, 100, TimeSpan.FromHours(1));
        await log.AppendAsync([("p1", Json("p1"))], $"00-{first.TraceId}-{first.SpanId}-01");
        await log.AppendAsync([("p2", Json("p2"))], $"00-{second.TraceId}-{second.SpanId}-01");

        await using var instance = await TestHost.StartAsync(
            builder => builder.Services.AddGraphEvents()
                .AddToolGraphEngine(o => o.AutoRegisterUnknownTools = true)
                .AddRedisBackplane(o =>
                {
                    o.ConnectionString = redis.ConnectionString;
                    o.StreamKey = key;
                    o.PollInterval = TimeSpan.FromMilliseconds(100);
                })
                .AddRedisLearner()
                .AddGraphEventStream(),
            app => app.MapGraphEventStream(TestHost.StreamPath));

        Activity? receive = null;
        await Eventually.HoldsAsync(
            () => (receive = _spans.All.FirstOrDefault(s => s.OperationName == "pml.graph_events.redis.executions.receive" && s.Links.Any(l => l.Context.TraceId == first.TraceId))) is not null,
            "the learner's receive span linked to the first POST");
        Assert.Equal(default, receive!.ParentSpanId);
        Assert.Equal(ActivityKind.Consumer, receive.Kind);
        Assert.Equal([first.SpanId, second.SpanId], receive.Links.Select(l => l.Context.SpanId).Order(new SpanIdOrder(first.SpanId)));
        Assert.Equal(2, receive.GetTagItem("pml.graph_events.redis.entries"));

        var learn = Assert.Single(Of(receive.TraceId), s => s.OperationName == "pml.graph_events.learn");
        Assert.Equal(receive.SpanId, learn.ParentSpanId);
        Assert.Equal(2, learn.GetTagItem("pml.graph_events.learned"));
        var append = Assert.Single(Of(receive.TraceId), s => s.OperationName == "pml.graph_events.redis.events.append");
        Assert.Equal((learn.SpanId, ActivityKind.Producer), (append.ParentSpanId, append.Kind));

        // The instance's own backplane reads the unit in a span that continues the append's trace.
        await Eventually.HoldsAsync(() => Of(receive.TraceId).Any(s => s.OperationName == "pml.graph_events.redis.events.read"), "the read span");
        var read = Assert.Single(Of(receive.TraceId), s => s.OperationName == "pml.graph_events.redis.events.read");
        Assert.Equal((append.SpanId, ActivityKind.Consumer), (read.ParentSpanId, read.Kind));
        Assert.Equal(learn.GetTagItem("pml.graph_events.last_event_id"), append.GetTagItem("pml.graph_events.last_event_id"));
        Assert.NotNull(read.GetTagItem("pml.graph_events.redis.stream_id"));
    }

    private static string Json(string id) =>
        $$"""{"id":"{{id}}","tasks":[{"id":"t0","tool":"tool:a","depends_on":[]},{"id":"t1","tool":"tool:b","depends_on":["t0"]}],"success":true,"execution_time_ms":1}""";

    private List<Activity> Of(ActivityTraceId trace) => _spans.Of(trace);

    /// <summary>Puts <c>first</c> first: the links' order is the entries' order, which the assertion need not depend on.</summary>
    private sealed class SpanIdOrder(ActivitySpanId first) : IComparer<ActivitySpanId>
    {
        public int Compare(ActivitySpanId x, ActivitySpanId y) => x == y ? 0 : x == first ? -1 : 1;
    }
}
