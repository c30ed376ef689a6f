using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents;

/// <summary>Registers the graph event broadcaster in a host's services.</summary>
public static class GraphEventsServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton broadcaster, available as <see cref="IGraphEventBroadcaster"/>,
    /// <see cref="IGraphEventPublisher"/> and <see cref="IGraphEventSubscriber"/>. Options are
    /// validated when the host starts; an invalid one stops start-up with a message naming it.
    /// </summary>
    /// <remarks>
    /// Options are bound from the <c>GraphEvents</c> section of the <see cref="IConfiguration"/> in the
    /// container, taken when the options are first built: the host may register its configuration
    /// before or after this call. Without one, the defaults apply. Configuration is applied first, then
    /// <paramref name="configure"/>, so code wins.
    /// </remarks>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets options in code; applied after configuration binding.</param>
    public static IGraphEventsBuilder AddGraphEvents(this IServiceCollection services, Action<GraphEventsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        // Bound when the options are built, from whatever IConfiguration the container has then, so
        // the order in which the host registers its configuration and calls this does not matter.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<GraphEventsOptions>, GraphEventsConfigurationBinding>());
        return AddCore(services, configure);
    }

    /// <summary>
    /// Adds the broadcaster with options bound from the <c>GraphEvents</c> section of
    /// <paramref name="configuration"/> (for example <c>GraphEvents:MaxSubscribers</c>) instead of the
    /// container's configuration.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The configuration root (or any configuration that has a <c>GraphEvents</c> section).</param>
    /// <param name="configure">Sets options in code after binding.</param>
    public static IGraphEventsBuilder AddGraphEvents(this IServiceCollection services, IConfiguration configuration, Action<GraphEventsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<GraphEventsOptions>().Bind(configuration.GetSection(GraphEventsOptions.SectionName));
        return AddCore(services, configure);
    }

    private static GraphEventsBuilder AddCore(IServiceCollection services, Action<GraphEventsOptions>? configure)
    {
        var options = services.AddOptions<GraphEventsOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GraphEventsOptions>, OptionsValidator<GraphEventsOptions>>(static _ => new(static o => o.Validate())));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IGraphEventBroadcaster>(static provider =>
        {
            // Resolving options runs the validators, so a broadcaster never starts on bad options,
            // even in a plain ServiceProvider that no host validates at start-up.
            var value = provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value;
            var meterFactory = provider.GetService<IMeterFactory>();
            var metrics = meterFactory is null ? null : new GraphEventsMetrics(meterFactory);

            // A scale-out add-on (AddRedisBackplane) registers a backplane; without one, the
            // broadcaster numbers events itself.
            // A logger when the host has logging: an event the pump had to skip is reported there.
            var logger = provider.GetService<ILoggerFactory>()?.CreateLogger<Broadcaster>();
            return new Broadcaster(value, provider.GetRequiredService<TimeProvider>(), metrics, provider.GetService<IGraphEventBackplane>(), logger, provider.GetService<IGraphEventLog>());
        });
        services.TryAddSingleton<IGraphEventPublisher>(static provider => provider.GetRequiredService<IGraphEventBroadcaster>());
        services.TryAddSingleton<IGraphEventSubscriber>(static provider => provider.GetRequiredService<IGraphEventBroadcaster>());
        return new GraphEventsBuilder(services);
    }
}
