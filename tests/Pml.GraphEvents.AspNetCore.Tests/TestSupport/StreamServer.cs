using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Pml.GraphEvents.AspNetCore.Tests.TestSupport;

/// <summary>A <see cref="TestHost"/> serving MapGraphEventStream("/events/stream") and nothing else.</summary>
internal static class StreamServer
{
    public const string Path = TestHost.StreamPath;

    /// <param name="events">Broadcaster options, in code.</param>
    /// <param name="stream">Endpoint options, in code.</param>
    /// <param name="configure">Services and configuration, before AddGraphEvents().AddGraphEventStream().</param>
    /// <param name="conventions">Applied to the stream endpoint (RequireHost, say).</param>
    public static Task<TestHost> StartAsync(
        Action<GraphEventsOptions>? events = null,
        Action<GraphEventStreamOptions>? stream = null,
        Action<WebApplicationBuilder>? configure = null,
        Func<IEndpointConventionBuilder, IEndpointConventionBuilder>? conventions = null) =>
        TestHost.StartAsync(
            builder =>
            {
                configure?.Invoke(builder);
                builder.Services.AddGraphEvents(events).AddGraphEventStream(stream);
            },
            app =>
            {
                var endpoint = app.MapGraphEventStream(Path);
                conventions?.Invoke(endpoint);
            });
}
