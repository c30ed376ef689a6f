namespace Pml.GraphEvents.Server;

/// <summary>The body of <c>GET /healthz</c>.</summary>
/// <param name="Status"><c>ok</c>, or <c>degraded</c> while Redis cannot be reached (on Redis).</param>
/// <param name="Subscribers">Stream clients connected to this instance.</param>
/// <param name="Nodes">Tools in this instance's graph.</param>
/// <param name="Edges">Edges in this instance's graph.</param>
/// <param name="Cluster">On Redis: where the cluster and this instance stand; absent otherwise.</param>
internal sealed record HealthResponse(
    string Status,
    int Subscribers,
    int Nodes,
    int Edges,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] HealthResponse.ClusterHealth? Cluster = null)
{
    /// <summary>Where the cluster and this instance stand (see <c>RedisClusterStatus</c>).</summary>
    internal sealed record ClusterHealth(
        string InstanceId,
        string Redis,
        string? Learner,
        bool IsLearner,
        long? LearnerLag,
        int OutageBuffer,
        int ConnectedClients,
        string? AsOfEventId);
}
