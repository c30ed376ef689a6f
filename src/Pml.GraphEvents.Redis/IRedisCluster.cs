namespace Pml.GraphEvents.Redis;

/// <summary>
/// An instance of a graph shared on Redis by many instances (<c>AddRedisLearner()</c>): one of them
/// learns, every one keeps a replica. Resolve it to report where this instance stands.
/// </summary>
public interface IRedisCluster
{
    /// <summary>Asks Redis (one round trip, at most a second) where the cluster and this instance stand.</summary>
    Task<RedisClusterStatus> GetStatusAsync(CancellationToken cancellationToken = default);
}
