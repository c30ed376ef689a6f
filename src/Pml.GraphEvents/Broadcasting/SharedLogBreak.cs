namespace Pml.GraphEvents;

/// <summary>
/// A break in the shared log a host reads: the log was replaced by a new one (<paramref name="NewEpoch"/>),
/// or, in the same log, events this host never read were trimmed away before it got to them.
/// </summary>
/// <param name="NewEpoch">The new log's epoch, or <see langword="null"/> when the log is the same and only a gap is reported.</param>
internal sealed record SharedLogBreak(string? NewEpoch);
