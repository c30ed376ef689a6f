namespace Pml.GraphEvents;

/// <summary>One event in an <see cref="IGraphEventLog"/>.</summary>
/// <param name="Offset">Its place in the log: 1 for the first event, then consecutive.</param>
/// <param name="EventType">The SSE event name (one of <see cref="GraphEventTypes"/>, or a host's registered name).</param>
/// <param name="Data">The event's data JSON, one line of UTF-8, as the frame's <c>data:</c> line carries it.</param>
internal readonly record struct EventLogRecord(long Offset, string EventType, ReadOnlyMemory<byte> Data);
