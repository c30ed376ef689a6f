namespace Pml.GraphEvents;

/// <summary>An event waiting for the pump, and the id a backplane gave it (0: the pump numbers it).</summary>
internal readonly record struct IngressItem(GraphEvent Event, long Id);
