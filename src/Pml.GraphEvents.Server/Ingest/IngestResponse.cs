namespace Pml.GraphEvents.Server;

/// <summary>The 202 answer of <c>POST /executions</c>.</summary>
/// <param name="Accepted">The ids of the executions learned from, in the order given.</param>
/// <param name="UnknownTools">Tools the graph does not know; their edges were skipped (register them, or run with auto-registration).</param>
internal sealed record IngestResponse(IReadOnlyList<string> Accepted, IReadOnlyList<string> UnknownTools);
