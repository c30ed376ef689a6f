using System.Net;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Sse;

/// <summary>
/// The core writer needs no ASP.NET Core: here <see cref="HttpListener"/> serves it, and an
/// <see cref="HttpClient"/> reads it with the framework's <see cref="SseParser"/>.
/// </summary>
public sealed class AnyHostTests
{
    [Fact]
    public async Task HttpListener_serves_the_stream_and_SseParser_reads_every_frame()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broadcaster = GraphEventBroadcaster.Create();
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();

        var serving = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers["Cache-Control"] = "no-cache";
            context.Response.SendChunked = true;
            var subscription = broadcaster.Subscribe();
            var result = await subscription.WriteToAsync(context.Response.OutputStream, cancellationToken: ct);
            context.Response.Close();
            return result;
        }, ct);

        using var client = new HttpClient { Timeout = SubscriptionReading.Deadline };
        using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/"), HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await using var items = SseParser.Create(body).EnumerateAsync(ct).GetAsyncEnumerator(ct);

        Assert.True(await items.MoveNextAsync());
        Assert.Equal(GraphEventTypes.Connected, items.Current.EventType);
        Assert.Equal(TimeSpan.FromSeconds(3), items.Current.ReconnectionInterval);

        for (var i = 0; i < 20; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), ct);
        }

        for (var i = 0; i < 20; i++)
        {
            Assert.True(await items.MoveNextAsync());
            Assert.Equal(GraphEventTypes.EdgeCreated, items.Current.EventType);
            Assert.Equal(broadcaster.IdAt(i + 1), items.Current.EventId);
            Assert.Contains($"\"from_tool_id\":\"tool:{i}\"", items.Current.Data, StringComparison.Ordinal);
        }

        // Disposing the broadcaster ends the subscription; the writer ends cleanly and the
        // client sees the end of the body.
        await broadcaster.DisposeAsync();
        var result = await serving;
        Assert.Equal(GraphEventStreamEndReason.SubscriptionEnded, result.EndReason);
        Assert.Equal(SubscriptionEndReason.BroadcasterDisposed, result.SubscriptionEndReason);
        Assert.Equal(21, result.FramesWritten);
        Assert.False(await items.MoveNextAsync());
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
