using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The story's <c>EventsStreamManager.broadcastEvent</c>, ported faithfully: for each client in
/// turn, serialize the event (per client, as <c>sendToClient</c> does), encode it, and await the
/// client's writer. A client's writer is a bounded channel of one chunk, like the
/// <c>TransformStream</c> writable's default high-water mark; the publisher awaits the whole
/// broadcast, so one slow client holds up the publisher and every client after it.
/// </summary>
internal sealed class StoryEventsStream : IFanOutCandidate
{
    private readonly List<Channel<byte[]>> _clients = [];
    private readonly List<Task> _readers = [];

    public StoryEventsStream(int subscribers, Action<long>? delivered, int stalledClients = 0)
    {
        for (var i = 0; i < subscribers; i++)
        {
            var client = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
            _clients.Add(client);
            if (i >= stalledClients)
            {
                _readers.Add(Task.Run(() => ReadAsync(client.Reader, delivered)));
            }
        }
    }

    public string Name => FanOutCandidates.Story;

    public async ValueTask PublishAsync(EdgeCreatedEvent graphEvent, long sequence)
    {
        foreach (var client in _clients)
        {
            // `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`, once per client.
            var json = JsonSerializer.Serialize(graphEvent, GraphEventJsonContext.Default.EdgeCreatedEvent);
            var frame = Encoding.UTF8.GetBytes($"event: {graphEvent.EventType}\ndata: {json}\n\n");
            await client.Writer.WriteAsync(frame);
        }
    }

    /// <summary>Publishes without waiting past <paramref name="deadline"/>; false when a client held it up.</summary>
    public async Task<bool> TryPublishAsync(EdgeCreatedEvent graphEvent, CancellationToken deadline)
    {
        try
        {
            foreach (var client in _clients)
            {
                var json = JsonSerializer.Serialize(graphEvent, GraphEventJsonContext.Default.EdgeCreatedEvent);
                var frame = Encoding.UTF8.GetBytes($"event: {graphEvent.EventType}\ndata: {json}\n\n");
                await client.Writer.WriteAsync(frame, deadline);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task ReadAsync(ChannelReader<byte[]> reader, Action<long>? delivered)
    {
        // Frames reach a client in publish order, so the n-th frame read is event n.
        long sequence = 0;
        await foreach (var _ in reader.ReadAllAsync())
        {
            delivered?.Invoke(++sequence);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _clients.ForEach(c => c.Writer.TryComplete());
        await Task.WhenAll(_readers);
    }
}
