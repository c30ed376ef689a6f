namespace Pml.GraphEvents;

/// <summary>
/// An event waiting for the pump (or for a backplane's log), with its type's contract (resolved
/// once, at publish or when the backplane read it), the id a backplane gave it (0: the pump numbers
/// it), and its data JSON when the publish-time size check had to encode it (<see langword="null"/> otherwise).
/// </summary>
internal readonly record struct IngressItem(GraphEvent Event, GraphEventContract Contract, long Id, byte[]? Data);
