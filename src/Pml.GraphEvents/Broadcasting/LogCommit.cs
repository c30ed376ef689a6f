using System.Diagnostics;

namespace Pml.GraphEvents;

/// <summary>
/// A block of events that must reach the event log together, with what the log stores in the same
/// atomic write (a graph change, when the log and the graph share a file): the tool graph engine's
/// way to make a change and the events it produces durable at once. The pump numbers the events
/// consecutively, appends them with the attachment in its drain's one append, and only then
/// delivers them and completes <see cref="Committed"/> with the id of the last one.
/// </summary>
internal sealed class LogCommit(IngressItem[] items, object? attachment)
{
    // Completed by the pump; the engine's continuation must not run on the pump's thread.
    private readonly TaskCompletionSource<string> _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The events, checked at commit, in order.</summary>
    public IngressItem[] Items { get; } = items;

    /// <summary>What the log stores in the same write, or <see langword="null"/>.</summary>
    public object? Attachment { get; } = attachment;

    /// <summary>The id of the block's last event (of the log's last event when the block is empty), once the block is in the log.</summary>
    public Task<string> Committed => _committed.Task;

    /// <summary>
    /// The span the block was committed in (the engine's learn span), when a listener takes
    /// <see cref="GraphEventsTracing.Source"/>; default otherwise. The pump runs on its own thread,
    /// where <see cref="Activity.Current"/> is not the committer's, so the context travels with the block.
    /// </summary>
    public ActivityContext TraceParent { get; init; }

    /// <summary>The offset of the block's last event, set by the pump while it numbers the drain.</summary>
    public long LastOffset { get; set; }

    public void Complete(string lastId) => _committed.TrySetResult(lastId);

    public void Fail(Exception exception) => _committed.TrySetException(exception);
}
