namespace Pml.GraphEvents.Cluster.Tests.TestSupport;

/// <summary>
/// One instance's <c>GET /healthz</c> in cluster mode:
/// <c>{"status","subscribers","nodes","edges","cluster":{"instance_id","redis","learner","is_learner","learner_lag","outage_buffer","connected_clients","as_of_event_id"}}</c>.
/// </summary>
internal sealed record Health(
    string Status,
    int Subscribers,
    int Nodes,
    int Edges,
    string InstanceId,
    string Redis,
    string? Learner,
    bool IsLearner,
    long? LearnerLag,
    long OutageBuffer,
    int ConnectedClients,
    string? AsOfEventId,
    string Raw)
{
    public static Health Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!root.TryGetProperty("cluster", out var cluster) || cluster.ValueKind != JsonValueKind.Object)
        {
            Assert.Fail($"/healthz has no \"cluster\" object (is cluster mode on?): {json}");
        }

        return new Health(
            root.GetProperty("status").GetString()!,
            root.GetProperty("subscribers").GetInt32(),
            root.GetProperty("nodes").GetInt32(),
            root.GetProperty("edges").GetInt32(),
            cluster.GetProperty("instance_id").GetString()!,
            cluster.GetProperty("redis").GetString()!,
            cluster.GetProperty("learner").GetString(),
            cluster.GetProperty("is_learner").GetBoolean(),
            cluster.GetProperty("learner_lag").ValueKind == JsonValueKind.Null ? null : cluster.GetProperty("learner_lag").GetInt64(),
            cluster.GetProperty("outage_buffer").GetInt64(),
            cluster.GetProperty("connected_clients").GetInt32(),
            cluster.GetProperty("as_of_event_id").GetString(),
            json);
    }
}
