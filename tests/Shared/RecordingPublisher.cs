namespace Pml.GraphEvents.Testing;

/// <summary>Collects published events in order, for assertions.</summary>
internal sealed class RecordingPublisher : IGraphEventPublisher
{
    private readonly Lock _lock = new();
    private readonly List<GraphEvent> _events = [];

    public IReadOnlyList<GraphEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
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

    public void Clear()
    {
        lock (_lock)
        {
            _events.Clear();
        }
    }
}
