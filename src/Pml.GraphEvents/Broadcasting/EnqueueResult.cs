namespace Pml.GraphEvents;

/// <summary>What <see cref="SubscriberQueue.TryEnqueue"/> did with a frame.</summary>
internal enum EnqueueResult
{
    Enqueued,
    DroppedOldest,
    Full,
    Closed,
}
