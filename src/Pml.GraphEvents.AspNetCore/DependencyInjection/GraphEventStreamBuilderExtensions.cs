using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>Registers what <c>MapGraphEventStream</c> needs.</summary>
public static class GraphEventStreamBuilderExtensions
{
    /// <summary>
    /// Adds the HTTP stream endpoint's services: its options, bound from the
    /// <c>GraphEvents:Stream</c> configuration section when the host has configuration and
    /// validated at start-up, and its CORS policy (<see cref="GraphEventStreamOptions.CorsPolicyName"/>).
    /// Call after <c>services.AddGraphEvents()</c>: <c>services.AddGraphEvents().AddGraphEventStream()</c>.
    /// </summary>
    /// <remarks>
    /// The configuration is the <c>IConfiguration</c> in the container, taken when the options are
    /// first built: the host may register it before or after this call. Without one, the defaults
    /// apply. Configuration is applied first, then <paramref name="configure"/>, so code wins.
    /// </remarks>
    /// <param name="builder">The builder <c>AddGraphEvents</c> returned.</param>
    /// <param name="configure">Sets options in code; applied after configuration binding.</param>
    public static IGraphEventsBuilder AddGraphEventStream(this IGraphEventsBuilder builder, Action<GraphEventStreamOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<GraphEventStreamOptions>().ValidateOnStart();

        // Bound when the options are built, from whatever IConfiguration the container has then: a
        // check of the services at this call would miss a configuration registered after it.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<GraphEventStreamOptions>, GraphEventStreamConfigurationBinding>());

        if (configure is not null)
        {
            options.Configure(configure);
        }

        // The writer's clock (write timeouts, stream lifetimes) is the container's, as the
        // broadcaster's is, unless code chose one: a host's FakeTimeProvider drives both.
        options.PostConfigure<TimeProvider>(static (o, clock) => o.TimeProvider ??= clock);
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GraphEventStreamOptions>, OptionsValidator<GraphEventStreamOptions>>(static _ => new(static o => o.Validate())));
        services.AddCors();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<CorsOptions>, GraphEventStreamCorsSetup>());
        services.TryAddSingleton<GraphEventStreamHandler>();
        return builder;
    }
}
