namespace Pml.GraphEvents.Redis;

/// <summary>Where an instance of a shared graph stands (the server's <c>GET /healthz</c> reports it).</summary>
/// <param name="InstanceId">This instance's id among the instances (new at every start).</param>
/// <param name="RedisReachable">Whether Redis answered a PING just now (within a second).</param>
/// <param name="Learner">The id of the instance that holds the learner's lease, or <see langword="null"/> when none does (or Redis cannot say).</param>
/// <param name="IsLearner">Whether this instance is the learner.</param>
/// <param name="LearnerLag">Executions appended to the executions log and not learned yet, or <see langword="null"/> when Redis cannot say.</param>
/// <param name="OutageBuffer">Events published on this instance that wait for Redis.</param>
/// <param name="ConnectedClients">Stream clients connected to every instance (this one's, and the others' as they last reported them).</param>
/// <param name="AsOfEventId">The id of the last shared event this instance's graph reflects, or <see langword="null"/> before any.</param>
public sealed record RedisClusterStatus(
    string InstanceId,
    bool RedisReachable,
    string? Learner,
    bool IsLearner,
    long? LearnerLag,
    int OutageBuffer,
    int ConnectedClients,
    string? AsOfEventId);
