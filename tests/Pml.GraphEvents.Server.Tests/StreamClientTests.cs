using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pml.GraphEvents.Server.Tests.TestSupport;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>
/// <see cref="GraphEventStreamClient"/> against the real server's <c>GET /events/stream</c>:
/// reconnects after the server stops and starts again on the same port, loses nothing the replay
/// window still holds, is told when it cannot, and waits out a 503.
/// </summary>
public sealed class StreamClientTests
{
    private static readonly GraphEventStreamClientOptions Fast = new()
    {
        ReconnectDelay = TimeSpan.FromMilliseconds(50),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
    };

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["GraphEvents:Stream:RetryInterval"] = "00:00:00.100",
        ["GraphEvents:Stream:RetryAfter"] = "00:00:01",
    };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task After_the_http_server_restarts_no_event_within_the_replay_window_is_lost()
    {
        // The broadcaster outlives both HTTP servers, as in a host whose web front restarts: its
        // replay window then holds what was published while nobody could connect.
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { ReplayCapacity = 1_024 });
        void Share(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
        {
            // Instances, not factories: the container disposes what a factory returned, and the
            // first server's shutdown would dispose the broadcaster the second one needs.
            builder.Services.Replace(ServiceDescriptor.Singleton(broadcaster));
            builder.Services.Replace(ServiceDescriptor.Singleton<IGraphEventPublisher>(broadcaster));
            builder.Services.Replace(ServiceDescriptor.Singleton<IGraphEventSubscriber>(broadcaster));
        }

        using var database = new TempDatabase();
        var first = await RunningServer.StartAsync(database.Path, settings: Settings, configure: Share);
        var port = first.Port;
        using var http = new HttpClient();
        var client = new GraphEventStreamClient(http, new Uri(first.BaseAddress, "events/stream"), Fast);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var (received, reader) = StartReading(client, reading.Token);
        await WaitForAsync(received, e => e is ConnectedEvent);

        await Post(first, """{"execution_id":"before","tool_ids":["git:status","git:commit"]}""");
        await WaitForAsync(received, e => e is WorkflowExecutedEvent { WorkflowId: "before" });
        await first.StopAsync();

        for (var i = 0; i < 20; i++)
        {
            await broadcaster.PublishAsync(new EdgeCreatedEvent($"gap:{i}", $"gap:{i + 1}", 0.5, DateTimeOffset.UtcNow), Token);
        }

        await using var second = await RunningServer.StartAsync(database.Path, port, Settings, Share);
        await Post(second, """{"execution_id":"after","tool_ids":["git:diff","git:commit"]}""");
        var afterRestart = await WaitForAsync(received, e => e is WorkflowExecutedEvent { WorkflowId: "after" });
        await reading.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader);

        Assert.DoesNotContain(afterRestart, e => e is EventsLostEvent);
        var gap = afterRestart.OfType<EdgeCreatedEvent>().Where(e => e.FromToolId.StartsWith("gap:", StringComparison.Ordinal)).Select(e => e.FromToolId).ToList();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"gap:{i}"), gap);
        Assert.Equal(2, client.ConnectionCount);
    }

    [Fact]
    public async Task After_a_real_restart_the_client_resumes_from_the_durable_log_and_misses_nothing()
    {
        using var database = new TempDatabase();
        var first = await RunningServer.StartAsync(database.Path, settings: Settings);
        var port = first.Port;
        using var http = new HttpClient();
        var client = new GraphEventStreamClient(http, new Uri(first.BaseAddress, "events/stream"), Fast);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var (received, reader) = StartReading(client, reading.Token);
        List<GraphEvent> all = [.. await WaitForAsync(received, e => e is ConnectedEvent)];

        for (var i = 0; i < 5; i++)
        {
            await Post(first, $$"""{"execution_id":"before-{{i}}","tool_ids":["git:status","git:commit"]}""");
        }

        all.AddRange(await WaitForAsync(received, e => e is WorkflowExecutedEvent { WorkflowId: "before-4" }));
        await first.StopAsync();

        // A new process on the same database: the same log (epoch and offsets), so the client's
        // Last-Event-ID is one of its own and it resumes exactly, the second run's start included.
        await using var second = await RunningServer.StartAsync(database.Path, port, Settings);
        await Post(second, """{"execution_id":"after","tool_ids":["git:diff","git:commit"]}""");
        all.AddRange(await WaitForAsync(received, e => e is WorkflowExecutedEvent { WorkflowId: "after" }));
        await reading.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader);

        Assert.DoesNotContain(all, e => e is EventsLostEvent);
        Assert.Equal(2, all.Count(e => e is ConnectedEvent));
        Assert.Single(all, e => e is GraphSyncedEvent);
        Assert.Equal(
            ["before-0", "before-1", "before-2", "before-3", "before-4", "after"],
            all.OfType<WorkflowExecutedEvent>().Select(e => e.WorkflowId));
        Assert.Equal(EventIds.Epoch(second.Services.GetRequiredService<IGraphEventBroadcaster>().GetStatistics().LastEventId), EventIds.Epoch(client.LastEventId));
    }

    [Fact]
    public async Task At_the_subscriber_limit_the_client_waits_and_connects_once_a_slot_is_free()
    {
        using var database = new TempDatabase();
        await using var server = await RunningServer.StartAsync(
            database.Path,
            settings: new Dictionary<string, string>(Settings) { ["GraphEvents:MaxSubscribers"] = "1" });
        using var holder = server.CreateClient();
        var held = await holder.GetAsync("events/stream", HttpCompletionOption.ResponseHeadersRead, Token);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);

        using var http = new HttpClient();
        var client = new GraphEventStreamClient(http, new Uri(server.BaseAddress, "events/stream"), Fast);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(Token);
        reading.CancelAfter(Eventually.Deadline);
        await using var events = client.ReadAllAsync(reading.Token).GetAsyncEnumerator(reading.Token);
        var first = events.MoveNextAsync().AsTask();

        // Refused at least once (a 503 counts no connection), then admitted when the slot frees.
        await Eventually.TrueAsync(() => Task.FromResult(server.Services.GetRequiredService<IGraphEventBroadcaster>().GetStatistics().SubscribesRefused > 0), "a 503");
        Assert.Equal(0, client.ConnectionCount);
        held.Dispose();

        Assert.True(await first);
        Assert.IsType<ConnectedEvent>(events.Current);
        Assert.Equal(1, client.ConnectionCount);
    }

    private static async Task Post(TestHost server, string json)
    {
        using var http = server.CreateClient();
        var response = await http.PostAsync("executions", RunningServer.Json(json), Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Reads until an event matches; returns everything read, the match last.</summary>
    private static async Task<List<GraphEvent>> WaitForAsync(ChannelReader<GraphEvent> reader, Func<GraphEvent, bool> match)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Eventually.Deadline);
        var seen = new List<GraphEvent>();
        await foreach (var e in reader.ReadAllAsync(timeout.Token))
        {
            seen.Add(e);
            if (match(e))
            {
                return seen;
            }
        }

        throw new InvalidOperationException("The channel ended.");
    }

    /// <summary>Reads the client's events into a channel in the background, until <paramref name="token"/> fires.</summary>
    private static (ChannelReader<GraphEvent> Received, Task Reader) StartReading(GraphEventStreamClient client, CancellationToken token)
    {
        var received = Channel.CreateUnbounded<GraphEvent>();
        var reader = Task.Run(async () =>
        {
            await foreach (var e in client.ReadAllAsync(token))
            {
                received.Writer.TryWrite(e);
            }
        }, Token);
        return (received.Reader, reader);
    }
}
