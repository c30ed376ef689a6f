using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Tests.Diagnostics;

/// <summary>
/// The <c>Pml.GraphEvents</c> activity source with the engine, the broadcaster and a real SQLite file
/// as a host wires them: each batch learned in a span under the caller's, its block published in a
/// child span on the pump's thread; a refused batch and a failed log write end their spans in error.
/// Spans of other tests running in this process are told apart by this test's own trace.
/// </summary>
public sealed class GraphEventsTracingTests : IDisposable
{
    private const string CallerName = "Pml.GraphEvents.Tests.Caller";

    private static readonly ActivitySource Caller = new(CallerName);

    private readonly string _directory = Directory.CreateTempSubdirectory("pml-tracing-").FullName;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public GraphEventsTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Pml.GraphEvents" or CallerName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _listener.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Each_batch_is_learned_in_a_child_of_the_callers_span_and_published_in_a_child_of_that()
    {
        await using var provider = Build();
        var engine = provider.GetRequiredService<IToolGraphEngine>();
        var broadcaster = provider.GetRequiredService<IGraphEventBroadcaster>();
        await engine.SyncAsync(Token);
        await engine.RegisterToolsAsync([new ToolNode("a"), new ToolNode("b"), new ToolNode("c")], Token);
        using var subscription = broadcaster.Subscribe();

        // Several callers at once, each in its own trace: each learn and publish span joins its own.
        var callers = new Activity[4];
        var results = new Task<ExecutionBatchResult>[callers.Length];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = Caller.StartActivity("caller")!;
            results[i] = engine.UpdateFromExecutionsAsync([WorkflowExecution.Chain($"w{i}", ["a", "b", "c"])], Token).AsTask();
            callers[i].Stop();
        }

        var learned = await Task.WhenAll(results);
        for (var i = 0; i < callers.Length; i++)
        {
            var trace = callers[i].TraceId;
            await Eventually.HoldsAsync(() => Of(trace).Any(s => s.OperationName == "pml.graph_events.publish"), $"caller {i}'s publish span");
            var learn = Assert.Single(Of(trace), s => s.OperationName == "pml.graph_events.learn");
            var publish = Assert.Single(Of(trace), s => s.OperationName == "pml.graph_events.publish");
            Assert.Equal(callers[i].SpanId, learn.ParentSpanId);
            Assert.Equal(learn.SpanId, publish.ParentSpanId);
            Assert.Equal(learned[i].Snapshot.AsOfEventId, learn.GetTagItem("pml.graph_events.last_event_id"));
            Assert.Equal(learned[i].Snapshot.AsOfEventId, publish.GetTagItem("pml.graph_events.last_event_id"));
            Assert.Equal(1, publish.GetTagItem("pml.graph_events.subscribers"));
            Assert.Equal(ActivityStatusCode.Unset, publish.Status);

            // A drain holds the block and maybe others' (batching under load): never fewer events.
            Assert.True((int)publish.GetTagItem("pml.graph_events.drain.events")! >= (int)publish.GetTagItem("pml.graph_events.events")!);
            Assert.True(publish.StartTimeUtc <= publish.Events.Single().Timestamp && publish.Events.Single().Timestamp <= publish.StartTimeUtc + publish.Duration, "appended within the span");
        }
    }

    [Fact]
    public async Task A_refused_batch_ends_its_learn_span_in_error_with_the_reason_and_no_stack_trace()
    {
        await using var provider = Build();
        var engine = provider.GetRequiredService<IToolGraphEngine>();
        await engine.SyncAsync(Token);
        using var caller = Caller.StartActivity("caller")!;
        await Assert.ThrowsAsync<ArgumentException>(async () => await engine.UpdateFromExecutionAsync(new WorkflowExecution("bad", [new WorkflowTask("t", "a", [])], true, -1), Token));
        caller.Stop();

        var learn = Assert.Single(Of(caller.TraceId), s => s.OperationName == "pml.graph_events.learn");
        Assert.Equal(ActivityStatusCode.Error, learn.Status);
        Assert.Contains("execution_time_ms", learn.StatusDescription, StringComparison.Ordinal);
        Assert.DoesNotContain(learn.Events, e => e.Name == "exception");
        Assert.DoesNotContain(Of(caller.TraceId), s => s.OperationName == "pml.graph_events.publish");
    }

    [Fact]
    public async Task A_failed_log_write_ends_both_spans_in_error_with_the_exception()
    {
        await using var provider = Build();
        var engine = provider.GetRequiredService<IToolGraphEngine>();
        await engine.SyncAsync(Token);
        await engine.RegisterToolsAsync([new ToolNode("a"), new ToolNode("b")], Token);
        provider.GetRequiredService<SqliteToolGraphStore>().BeforeCommit = () => throw new Microsoft.Data.Sqlite.SqliteException("simulated failure before commit", 10);
        using var caller = Caller.StartActivity("caller")!;
        await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("x", ["a", "b"]), Token));
        caller.Stop();

        await Eventually.HoldsAsync(() => Of(caller.TraceId).Any(s => s.OperationName == "pml.graph_events.publish"), "the publish span");
        foreach (var name in new[] { "pml.graph_events.learn", "pml.graph_events.publish" })
        {
            var span = Assert.Single(Of(caller.TraceId), s => s.OperationName == name);
            Assert.Equal(ActivityStatusCode.Error, span.Status);
            Assert.Contains(span.Events, e => e.Name == "exception");
            Assert.Null(span.GetTagItem("pml.graph_events.last_event_id"));
        }
    }

    private List<Activity> Of(ActivityTraceId trace) => [.. _stopped.Where(s => s.TraceId == trace)];

    private ServiceProvider Build()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddToolGraphEngine().AddSqliteToolGraphStore(Path.Combine(_directory, "graph.db"));
        return services.BuildServiceProvider();
    }
}
