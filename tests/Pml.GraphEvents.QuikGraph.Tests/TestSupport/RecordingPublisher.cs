namespace Pml.GraphEvents.QuikGraph.Tests.TestSupport;

/// <summary>Collects what the engine publishes; these tests read the snapshots, not the events.</summary>
internal sealed class RecordingPublisher : IGraphEventPublisher
{
    private readonly Lock _lock = new();
    private readonly List<GraphEvent> _events = [];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _events.Count;
            }
        }
    }

    public bool TryPublish(GraphEvent graphEvent)
    {
        lock (_lock)
        {
            _events.Add(graphEvent);
        }

        return true;
    }

    public ValueTask PublishAsync(GraphEvent graphEvent, CancellationToken cancellationToken = default)
    {
        TryPublish(graphEvent);
        return ValueTask.CompletedTask;
    }
}
