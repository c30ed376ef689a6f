namespace Pml.GraphEvents.Server;

/// <summary>The 202 answer of <c>POST /executions</c>.</summary>
/// <param name="Accepted">The ids of the executions learned from now, in the order given.</param>
/// <param name="UnknownTools">Tools the graph does not know; their edges were skipped (register them, or run with auto-registration).</param>
/// <param name="Duplicates">
/// The ids of the executions not learned again because they already were (within the engine's
/// duplicate window, GraphEvents:Engine:DuplicateWindowCount and DuplicateWindowAge, which survives
/// restarts), or appear earlier in the same body: a retried POST is safe.
/// </param>
internal sealed record IngestResponse(IReadOnlyList<string> Accepted, IReadOnlyList<string> UnknownTools, IReadOnlyList<string> Duplicates);
