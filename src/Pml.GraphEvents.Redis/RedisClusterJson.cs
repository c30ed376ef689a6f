using System.Text.Json.Serialization;

namespace Pml.GraphEvents.Redis;

/// <summary>An execution as the executions log keeps it (<c>d</c> of an entry).</summary>
internal sealed record ExecutionEntry(string Id, ExecutionTaskEntry[] Tasks, bool Success, double ExecutionTimeMs);

/// <summary>A task of an <see cref="ExecutionEntry"/>.</summary>
internal sealed record ExecutionTaskEntry(string Id, string Tool, string[] DependsOn);

/// <summary>
/// A snapshot of the graph as the learner writes it (<c>&lt;stream&gt;:snapshot</c>): the whole state of
/// every replica at <see cref="Position"/> (a stream id of the event stream, of the log with
/// <see cref="Epoch"/>), the metrics included, so that an instance that loads it holds exactly what the
/// others hold and folds the next units to the same bits.
/// </summary>
internal sealed record SnapshotEntry(
    string Epoch,
    string Position,
    SnapshotNode[] Nodes,
    SnapshotEdge[] Edges,
    double[] PageRank,
    int[] Communities,
    SnapshotMetrics Metrics);

/// <summary>A tool of a <see cref="SnapshotEntry"/>.</summary>
internal sealed record SnapshotNode(string Id, string? Name, string? ServerId, Dictionary<string, string>? Metadata);

/// <summary>An edge of a <see cref="SnapshotEntry"/>, its tools as ordinals of the node list.</summary>
internal sealed record SnapshotEdge(int From, int To, double Confidence, int ObservedCount);

/// <summary>The metrics of a <see cref="SnapshotEntry"/>.</summary>
internal sealed record SnapshotMetrics(int NodeCount, int EdgeCount, double Density, ToolScore[] PageRankTop10, int CommunitiesCount);

/// <summary>The JSON of what the cluster keeps in Redis besides events (whose JSON is the events' own).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ExecutionEntry))]
[JsonSerializable(typeof(SnapshotEntry))]
internal sealed partial class RedisClusterJson : JsonSerializerContext;
