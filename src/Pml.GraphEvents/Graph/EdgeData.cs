namespace Pml.GraphEvents;

/// <summary>
/// An edge as the engine keeps it: tool ordinals instead of ids, so that metrics loop over plain
/// arrays of these without hashing a string.
/// </summary>
internal readonly record struct EdgeData(int From, int To, double Confidence, int ObservedCount);
