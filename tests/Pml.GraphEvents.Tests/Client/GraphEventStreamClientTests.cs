using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Client;

/// <summary>
/// The .NET client against scripted HTTP answers: typed events, Last-Event-ID on reconnect,
/// <c>retry:</c>, 503 with Retry-After, refused connections, filters and cancellation.
/// (Against the real server and a real restart: see the server tests.)
/// </summary>
public sealed class GraphEventStreamClientTests
{
    private static readonly Uri StreamUri = new("http://127.0.0.1:1/events/stream");

    private static readonly GraphEventStreamClientOptions Fast = new()
    {
        ReconnectDelay = TimeSpan.FromMilliseconds(1),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(5),
    };

    // Ids as a server issues them: the client keeps them as opaque strings.
    private const string Epoch = "k3v9q2m8xz";

    private const string FirstStream =
        "retry: 5\n\n" +
        "id: " + Epoch + "-0\nevent: connected\ndata: {\"client_id\":\"c1\",\"connected_clients\":1,\"timestamp\":\"2025-12-01T10:00:00.000Z\"}\n\n" +
        "id: " + Epoch + "-1\nevent: edge_created\ndata: {\"from_tool_id\":\"a\",\"to_tool_id\":\"b\",\"confidence_score\":0.5,\"timestamp\":\"2025-12-01T10:00:00.000Z\"}\n\n" +
        "event: heartbeat\ndata: {\"connected_clients\":1,\"uptime_seconds\":30,\"timestamp\":\"2025-12-01T10:00:30.000Z\"}\n\n" +
        "id: " + Epoch + "-2\nevent: edge_updated\ndata: {\"from_tool_id\":\"a\",\"to_tool_id\":\"b\",\"old_confidence\":0.5,\"new_confidence\":0.55,\"observed_count\":2,\"timestamp\":\"2025-12-01T10:00:31.000Z\"}\n\n";

    private const string SecondStream =
        "id: " + Epoch + "-2\nevent: connected\ndata: {\"client_id\":\"c2\",\"connected_clients\":1,\"timestamp\":\"2025-12-01T10:01:00.000Z\"}\n\n" +
        "id: " + Epoch + "-3\nevent: workflow_executed\ndata: {\"workflow_id\":\"e1\",\"tool_ids\":[\"a\",\"b\"],\"success\":true,\"execution_time_ms\":42,\"timestamp\":\"2025-12-01T10:01:00.000Z\"}\n\n";

    [Fact]
    public async Task Yields_typed_events_and_resumes_with_the_last_event_id_after_the_stream_closes()
    {
        var handler = new ScriptedHandler(ScriptedHandler.Stream(FirstStream), ScriptedHandler.Stream(SecondStream));
        using var http = new HttpClient(handler);
        var client = new GraphEventStreamClient(http, StreamUri, Fast);

        var events = await ReadAsync(client, 6);

        Assert.Equal(
            [GraphEventTypes.Connected, GraphEventTypes.EdgeCreated, GraphEventTypes.Heartbeat, GraphEventTypes.EdgeUpdated, GraphEventTypes.Connected, GraphEventTypes.WorkflowExecuted],
            events.Select(e => e.EventType));
        var created = Assert.IsType<EdgeCreatedEvent>(events[1]);
        Assert.Equal(("a", "b", 0.5), (created.FromToolId, created.ToToolId, created.ConfidenceScore));
        Assert.Equal(["a", "b"], Assert.IsType<WorkflowExecutedEvent>(events[5]).ToolIds);

        var requests = handler.Requests;
        Assert.False(requests[0].Headers.Contains("Last-Event-ID"));
        Assert.Equal("text/event-stream", Assert.Single(requests[0].Headers.Accept).MediaType);
        Assert.Equal(Epoch + "-2", Assert.Single(requests[1].Headers.GetValues("Last-Event-ID")));
        Assert.Equal(Epoch + "-3", client.LastEventId);
        Assert.Equal(2, client.ConnectionCount);
    }

    [Fact]
    public async Task A_503_is_retried_after_its_Retry_After_and_refused_connections_with_backoff()
    {
        var handler = new ScriptedHandler(
            ScriptedHandler.Refused(),
            ScriptedHandler.Full(TimeSpan.Zero),
            ScriptedHandler.Refused(),
            ScriptedHandler.Stream(FirstStream));
        using var http = new HttpClient(handler);
        var client = new GraphEventStreamClient(http, StreamUri, Fast);

        var events = await ReadAsync(client, 1);

        Assert.IsType<ConnectedEvent>(events[0]);
        Assert.Equal(4, handler.Requests.Count);
        Assert.Equal(1, client.ConnectionCount);
    }

    [Fact]
    public async Task The_first_connection_may_resume_and_filter()
    {
        var handler = new ScriptedHandler(ScriptedHandler.Stream(SecondStream));
        using var http = new HttpClient(handler);
        var options = new GraphEventStreamClientOptions { LastEventId = Epoch + "-41", EventTypes = [GraphEventTypes.EdgeCreated, GraphEventTypes.MetricsUpdated] };
        var client = new GraphEventStreamClient(http, StreamUri, options);

        await ReadAsync(client, 1);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(Epoch + "-41", Assert.Single(request.Headers.GetValues("Last-Event-ID")));
        Assert.Equal("?types=edge_created,metrics_updated", request.RequestUri!.Query);
    }

    [Fact]
    public async Task Unknown_types_arrive_raw_and_malformed_frames_are_skipped()
    {
        var body =
            "id: 1\nevent: from_the_future\ndata: {\"x\":{\"timestamp\":\"nested\"},\"timestamp\":\"2025-12-01T10:00:02.500Z\"}\n\n" +
            "id: 2\nevent: edge_created\ndata: {not json\n\n" +
            "id: 3\nevent: not_even_json\ndata: hello\n\n" +
            "id: 4\nevent: heartbeat\ndata: {\"connected_clients\":1,\"uptime_seconds\":1,\"timestamp\":\"2025-12-01T10:00:00.000Z\"}\n\n";
        using var http = new HttpClient(new ScriptedHandler(ScriptedHandler.Stream(body)));
        var client = new GraphEventStreamClient(http, StreamUri, Fast);

        var events = await ReadAsync(client, 3);

        var future = Assert.IsType<RawGraphEvent>(events[0]);
        Assert.Equal(("from_the_future", "{\"x\":{\"timestamp\":\"nested\"},\"timestamp\":\"2025-12-01T10:00:02.500Z\"}"), (future.EventType, future.Data));
        Assert.Equal(new DateTimeOffset(2025, 12, 1, 10, 0, 2, 500, TimeSpan.Zero), future.Timestamp);
        var text = Assert.IsType<RawGraphEvent>(events[1]);
        Assert.Equal(("not_even_json", "hello", default(DateTimeOffset)), (text.EventType, text.Data, text.Timestamp));
        Assert.IsType<HeartbeatEvent>(events[2]);
        Assert.Equal("4", client.LastEventId);
    }

    [Fact]
    public async Task The_last_event_id_is_kept_as_the_server_sent_it_and_only_frames_with_one_move_it()
    {
        // Opaque to the client: whatever the server sent is what it sends back, unparsed. A frame
        // without an id keeps the last one (as an EventSource does), and an id with a NUL is ignored.
        var first =
            "id: " + Epoch + "-7\nevent: connected\ndata: {\"client_id\":\"c1\",\"connected_clients\":1,\"timestamp\":\"2025-12-01T10:00:00.000Z\"}\n\n" +
            "id: opaque/token_42\nevent: edge_created\ndata: {\"from_tool_id\":\"a\",\"to_tool_id\":\"b\",\"confidence_score\":0.5,\"timestamp\":\"2025-12-01T10:00:00.000Z\"}\n\n" +
            "event: events_lost\ndata: {\"reason\":\"buffer_overflow\",\"lost_count\":3,\"timestamp\":\"2025-12-01T10:00:00.000Z\"}\n\n" +
            "id: " + Epoch + "-9\0\nevent: heartbeat\ndata: {\"connected_clients\":1,\"uptime_seconds\":1,\"timestamp\":\"2025-12-01T10:00:00.000Z\"}\n\n";
        var handler = new ScriptedHandler(ScriptedHandler.Stream(first), ScriptedHandler.Stream(SecondStream));
        using var http = new HttpClient(handler);
        var client = new GraphEventStreamClient(http, StreamUri, Fast);

        var events = await ReadAsync(client, 5);

        Assert.Equal(
            [GraphEventTypes.Connected, GraphEventTypes.EdgeCreated, GraphEventTypes.EventsLost, GraphEventTypes.Heartbeat, GraphEventTypes.Connected],
            events.Select(e => e.EventType));
        Assert.Equal("opaque/token_42", Assert.Single(handler.Requests[1].Headers.GetValues("Last-Event-ID")));
    }

    [Fact]
    public async Task Cancellation_ends_the_enumeration()
    {
        using var http = new HttpClient(new ScriptedHandler(ScriptedHandler.Stream(SecondStream)));
        var client = new GraphEventStreamClient(http, StreamUri, Fast);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var seen = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var e in client.ReadAllAsync(cancel.Token))
            {
                // Past the script the handler hangs: only cancellation can end the wait.
                if (++seen == 2)
                {
                    await cancel.CancelAsync();
                }
            }
        });
        Assert.Equal(2, seen);
    }

    [Fact]
    public void Invalid_options_are_refused_with_their_name()
    {
        using var http = new HttpClient();
        var error = Assert.Throws<ArgumentException>(() => new GraphEventStreamClient(http, StreamUri, new GraphEventStreamClientOptions { EventTypes = ["nope"] }));
        Assert.Contains("EventTypes", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => new GraphEventStreamClient(http, StreamUri, new GraphEventStreamClientOptions { MaxReconnectDelay = TimeSpan.FromMilliseconds(1), ReconnectDelay = TimeSpan.FromSeconds(1) }));
        Assert.Contains("MaxReconnectDelay", error.Message, StringComparison.Ordinal);
    }

    private static async Task<List<GraphEvent>> ReadAsync(GraphEventStreamClient client, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(SubscriptionReading.Deadline);
        var events = new List<GraphEvent>();
        await foreach (var e in client.ReadAllAsync(timeout.Token))
        {
            events.Add(e);
            if (events.Count == count)
            {
                break;
            }
        }

        return events;
    }
}
