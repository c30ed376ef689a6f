using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The presence loop's log messages (<see cref="RedisPresence"/>), logged with the backplane's
/// logger. Event ids from 20, apart from <see cref="RedisBackplaneLog"/>'s, so each can grow.
/// </summary>
internal static partial class RedisPresenceLog
{
    [LoggerMessage(20, LogLevel.Warning, "Redis backplane cannot share its subscriber count on '{PresenceKey}'; retrying. connected_clients counts this instance's subscribers only once the others' counts are older than {Expiry}.")]
    public static partial void Unavailable(ILogger logger, string presenceKey, TimeSpan expiry, Exception? exception);

    [LoggerMessage(21, LogLevel.Information, "Redis backplane shares its subscriber count on '{PresenceKey}' again.")]
    public static partial void Recovered(ILogger logger, string presenceKey);
}
