namespace Pml.GraphEvents;

/// <summary>What <see cref="SubscriberQueue.TryEnqueueRange"/> did with a drain's frames.</summary>
internal enum EnqueueResult
{
    /// <summary>Every frame the filter takes was taken (dropping oldest ones, under that policy).</summary>
    Enqueued,

    /// <summary>The buffer filled: the frames from the first that did not fit on were refused.</summary>
    Full,

    /// <summary>The subscription had ended: nothing was taken.</summary>
    Closed,
}
