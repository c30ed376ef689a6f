using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The story's HTTP design over Kestrel: a set of client response bodies, and a broadcast that,
/// for each client in turn, serializes the event and awaits its write and flush. A client whose
/// socket stops draining makes that await, and so every later client and the publisher, wait.
/// </summary>
internal sealed class StoryHttpEventsStream
{
    private readonly Lock _gate = new();
    private readonly List<HttpResponse> _clients = [];

    public int ClientCount
    {
        get
        {
            lock (_gate)
            {
                return _clients.Count;
            }
        }
    }

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes("event: connected\ndata: {}\n\n"), context.RequestAborted);
        await response.Body.FlushAsync(context.RequestAborted);
        lock (_gate)
        {
            _clients.Add(response);
        }

        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_gate)
            {
                _clients.Remove(response);
            }
        }
    }

    public async Task BroadcastAsync(EdgeCreatedEvent graphEvent, CancellationToken cancellationToken)
    {
        HttpResponse[] clients;
        lock (_gate)
        {
            clients = [.. _clients];
        }

        foreach (var client in clients)
        {
            try
            {
                var json = JsonSerializer.Serialize(graphEvent, GraphEventJsonContext.Default.EdgeCreatedEvent);
                await client.Body.WriteAsync(Encoding.UTF8.GetBytes($"event: {graphEvent.EventType}\ndata: {json}\n\n"), cancellationToken);
                await client.Body.FlushAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A dead client: the story removes it after the loop; here the handler does.
            }
        }
    }
}
