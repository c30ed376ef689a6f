using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// ASP.NET Core's built-in <c>TypedResults.ServerSentEvents</c>, fed per connection from an
/// unbounded channel: what a host gets without this library. It serializes every event once per
/// connection, and sends no headers until the first item.
/// </summary>
internal sealed class TypedResultsEventsStream
{
    private readonly Lock _gate = new();
    private readonly List<Channel<EdgeCreatedEvent>> _clients = [];

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

    public ServerSentEventsResult<EdgeCreatedEvent> Handle(CancellationToken requestAborted)
    {
        var channel = Channel.CreateUnbounded<EdgeCreatedEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            _clients.Add(channel);
        }

        return TypedResults.ServerSentEvents(ReadAsync(channel, requestAborted));
    }

    public void Broadcast(EdgeCreatedEvent graphEvent)
    {
        lock (_gate)
        {
            foreach (var client in _clients)
            {
                client.Writer.TryWrite(graphEvent);
            }
        }
    }

    private async IAsyncEnumerable<SseItem<EdgeCreatedEvent>> ReadAsync(Channel<EdgeCreatedEvent> channel, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var graphEvent in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return new SseItem<EdgeCreatedEvent>(graphEvent, GraphEventTypes.EdgeCreated);
            }
        }
        finally
        {
            lock (_gate)
            {
                _clients.Remove(channel);
            }
        }
    }
}
