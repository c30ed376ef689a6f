using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The application's own connection, given to <c>AddRedisBackplane(multiplexer)</c>. Its presence in
/// the container means the backplane uses it instead of connecting itself, and never disposes it:
/// the application (or the container that registered it) owns it.
/// </summary>
internal sealed class RedisSharedMultiplexer(Func<IServiceProvider, IConnectionMultiplexer> factory)
{
    public Func<IServiceProvider, IConnectionMultiplexer> Factory { get; } = factory;
}
