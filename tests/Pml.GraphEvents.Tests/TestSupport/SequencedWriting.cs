namespace Pml.GraphEvents.Tests.TestSupport;

internal static class SequencedWriting
{
    /// <summary>What a backplane does with an event it read, for an event whose contract the broadcaster knows.</summary>
    public static ValueTask WriteSequencedAsync(this Broadcaster broadcaster, long id, GraphEvent graphEvent, CancellationToken cancellationToken) =>
        broadcaster.WriteSequencedAsync(id, graphEvent, broadcaster.ContractOf(graphEvent) ?? throw new ArgumentException("Not an event type of this broadcaster.", nameof(graphEvent)), cancellationToken);
}
