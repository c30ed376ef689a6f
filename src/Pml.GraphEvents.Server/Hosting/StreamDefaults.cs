using Pml.GraphEvents.AspNetCore;

namespace Pml.GraphEvents.Server;

/// <summary>The server's defaults for the stream endpoint, where they differ from the library's.</summary>
internal static class StreamDefaults
{
    /// <summary>
    /// Streams one client address may hold. The library has no default (behind a proxy that does
    /// not forward addresses every client is the proxy), but this server knows where it stands:
    /// loopback, or behind the proxies of <c>Server:TrustedProxies</c>, whose forwarded address is
    /// the one counted. 16 is more than a browser opens to one origin over HTTP/1.1 (6) and leaves
    /// room for a few people behind one NAT, while one address can no longer take all of
    /// <c>GraphEvents:MaxSubscribers</c> (100) by itself.
    /// </summary>
    public const int MaxStreamsPerAddress = 16;

    /// <summary>
    /// Sets the server's defaults. Call before <c>AddGraphEventStream()</c>: options are configured
    /// in the order they were registered, so the configuration it binds still overrides these
    /// (<c>GraphEvents:Stream:MaxStreamsPerAddress</c>; an empty value turns the limit off).
    /// </summary>
    public static IServiceCollection AddStreamDefaults(this IServiceCollection services) =>
        services.Configure<GraphEventStreamOptions>(static options => options.MaxStreamsPerAddress = MaxStreamsPerAddress);
}
