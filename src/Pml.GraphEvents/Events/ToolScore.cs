namespace Pml.GraphEvents;

/// <summary>A tool and its PageRank score, as listed in <see cref="MetricsUpdatedEvent.PageRankTop10"/>.</summary>
/// <param name="ToolId">The tool.</param>
/// <param name="Score">Its PageRank; the scores of all tools sum to 1.</param>
public sealed record ToolScore(string ToolId, double Score);
