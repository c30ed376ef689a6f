namespace Pml.GraphEvents;

/// <summary>How a stream written by <see cref="GraphEventStreamWriter"/> ended.</summary>
/// <param name="EndReason">Why the writer stopped.</param>
/// <param name="SubscriptionEndReason">Why the subscription ended (it always has when the writer returns).</param>
/// <param name="FramesWritten">Frames flushed to the output, the <c>connected</c> frame included.</param>
/// <param name="BytesWritten">Bytes flushed to the output, the <c>retry:</c> line included.</param>
public readonly record struct GraphEventStreamResult(
    GraphEventStreamEndReason EndReason,
    SubscriptionEndReason SubscriptionEndReason,
    long FramesWritten,
    long BytesWritten);
