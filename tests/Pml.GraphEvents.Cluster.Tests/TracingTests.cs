using System.Diagnostics;
using System.Net;
using System.Text;

namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// One execution followed across instances: posted with a <c>traceparent</c> to an instance that is
/// not the learner, it is appended to the shared executions log in a span of that POST's trace; the
/// learner, another process, receives it in a span that continues the trace, learns it and appends
/// its events in children of that; and every instance's backplane reads the unit in a span that
/// continues it again. The instances are real child processes exporting over OTLP to a real receiver.
/// </summary>
public sealed class TracingTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task A_post_to_one_instance_is_followed_through_the_learner_on_another_to_every_instances_read()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await ClusterServer.StartAsync(redis, 2, receiver.ExporterSettings());
        var (learner, _) = await cluster.WaitForLearnerAsync();
        var other = cluster.Nodes.Single(n => n != learner);

        var trace = ActivityTraceId.CreateRandom();
        var caller = ActivitySpanId.CreateRandom();
        using (var post = new HttpRequestMessage(HttpMethod.Post, other.Uri("executions"))
        {
            Content = new StringContent(Executions.Chain($"{Executions.NewPrefix()}-t", "git:status", "git:commit"), Encoding.UTF8, "application/json"),
        })
        {
            post.Headers.Add("traceparent", $"00-{trace}-{caller}-01");
            using var response = await Http.SendAsync(post, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var id = trace.ToHexString();
        await Eventually.HoldsAsync(
            () => receiver.Of(id).Count(s => s.Name == "pml.graph_events.redis.events.read") == 2,
            () => $"both instances' read spans in trace {id} (have: {string.Join(", ", receiver.Of(id).Select(s => s.Name))})");
        var spans = receiver.Of(id);
        OtlpSpan One(string name) => Assert.Single(spans, s => s.Name == name);

        var request = One("POST /executions");
        Assert.Equal(caller.ToHexString(), request.ParentSpanId);
        var append = One("pml.graph_events.redis.executions.append");
        Assert.Equal((request.SpanId, 4L), (append.ParentSpanId, append.Kind)); // producer
        var receive = One("pml.graph_events.redis.executions.receive");
        Assert.Equal((append.SpanId, 5L), (receive.ParentSpanId, receive.Kind)); // consumer, in the learner's process
        var learn = One("pml.graph_events.learn");
        Assert.Equal(receive.SpanId, learn.ParentSpanId);
        Assert.Equal(["locked", "planned"], learn.Events);
        var eventsAppend = One("pml.graph_events.redis.events.append");
        Assert.Equal(learn.SpanId, eventsAppend.ParentSpanId);
        Assert.All(spans.Where(s => s.Name == "pml.graph_events.redis.events.read"), read => Assert.Equal((eventsAppend.SpanId, 5L), (read.ParentSpanId, read.Kind)));

        // In time order along the chain, and nothing failed.
        Assert.True(request.StartUnixNano <= append.StartUnixNano && append.EndUnixNano <= receive.EndUnixNano, "append, then receive");
        Assert.True(receive.StartUnixNano <= learn.StartUnixNano && learn.StartUnixNano <= eventsAppend.StartUnixNano && eventsAppend.EndUnixNano <= learn.EndUnixNano, "learn, then its append within it");
        Assert.All(spans, s => Assert.NotEqual(2L, s.StatusCode));
    }
}
