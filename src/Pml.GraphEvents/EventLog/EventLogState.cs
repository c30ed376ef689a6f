namespace Pml.GraphEvents;

/// <summary>Where an <see cref="IGraphEventLog"/> stands.</summary>
/// <param name="Epoch">The log's identity, made at random when the log was created (<see cref="GraphEventId.NewEpoch"/>).</param>
/// <param name="Floor">Every offset up to this one is no longer held (retention removed it); 0 when the log holds everything since its start.</param>
/// <param name="LastOffset">The newest offset appended; 0 for an empty log. The next record gets <c>LastOffset + 1</c>.</param>
internal readonly record struct EventLogState(string Epoch, long Floor, long LastOffset);
