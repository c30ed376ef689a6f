using Pml.GraphEvents.Redis;

namespace Pml.GraphEvents.Server;

/// <summary>
/// Whether the server runs as one of many instances on Redis: <c>GraphEvents:Redis:ConnectionString</c>
/// turns it on. A setting that would then go unused refuses the start, naming it, rather than being
/// silently ignored (an operator who set it believes it is in effect).
/// </summary>
internal static class ClusterMode
{
    /// <summary>The server's length of the shared event stream when <c>GraphEvents:Redis:MaxLength</c> is not set.</summary>
    public const int DefaultMaxLength = 100_000;

    /// <exception cref="InvalidOperationException">A setting is given that nothing would use.</exception>
    public static bool IsOn(IConfiguration configuration)
    {
        var redis = configuration.GetSection(RedisBackplaneOptions.SectionName);
        var on = !string.IsNullOrWhiteSpace(redis[nameof(RedisBackplaneOptions.ConnectionString)]);
        if (!on)
        {
            var unused = redis.AsEnumerable(makePathsRelative: true).Where(static pair => pair.Value is not null).Select(static pair => $"{RedisBackplaneOptions.SectionName}:{pair.Key}").ToList();
            if (unused.Count > 0)
            {
                throw new InvalidOperationException(
                    $"{string.Join(", ", unused)} is set, but {RedisBackplaneOptions.SectionName}:{nameof(RedisBackplaneOptions.ConnectionString)} is not, so nothing would use it. "
                    + "Set the connection string to run on Redis, or remove the setting.");
            }

            return false;
        }

        var eventLog = $"{ServerOptions.SectionName}:{nameof(ServerOptions.EventLog)}";
        if (configuration[eventLog] is not null)
        {
            throw new InvalidOperationException(
                $"{eventLog} is set, but with {RedisBackplaneOptions.SectionName}:{nameof(RedisBackplaneOptions.ConnectionString)} the event log is the Redis stream, so nothing would use it. Remove the setting.");
        }

        return true;
    }
}
