using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents;

/// <summary>Registers the tool graph engine on top of <c>AddGraphEvents()</c>.</summary>
public static class ToolGraphEngineBuilderExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="IToolGraphEngine"/> that publishes through the broadcaster, and
    /// an <see cref="InMemoryToolGraphStore"/> unless the host registered an
    /// <see cref="IToolGraphStore"/> (before or after this call; the Pml.GraphEvents.Sqlite package's
    /// <c>AddSqliteToolGraphStore(path)</c> registers a durable one). Options are validated when the host
    /// starts. The graph starts empty: call <see cref="IToolGraphEngine.SyncAsync"/> to load the store.
    /// </summary>
    /// <remarks>
    /// Options are bound from the <c>GraphEvents:Engine</c> section of the <see cref="IConfiguration"/>
    /// in the container, taken when the options are first built: the host may register its
    /// configuration before or after this call. Without one, the defaults apply. Configuration is
    /// applied first, then <paramref name="configure"/>, so code wins.
    /// </remarks>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="configure">Sets options in code; applied after configuration binding.</param>
    public static IGraphEventsBuilder AddToolGraphEngine(this IGraphEventsBuilder builder, Action<ToolGraphEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Bound when the options are built (see GraphEventsConfigurationBinding): order-independent.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<ToolGraphEngineOptions>, ToolGraphEngineConfigurationBinding>());
        return AddCore(builder, configure);
    }

    /// <summary>
    /// Adds the engine with options bound from the <c>GraphEvents:Engine</c> section of
    /// <paramref name="configuration"/> (for example <c>GraphEvents:Engine:MaxEdgesPerExecution</c>)
    /// instead of the container's configuration.
    /// </summary>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="configuration">The configuration root (or any configuration that has a <c>GraphEvents:Engine</c> section).</param>
    /// <param name="configure">Sets options in code after binding.</param>
    public static IGraphEventsBuilder AddToolGraphEngine(this IGraphEventsBuilder builder, IConfiguration configuration, Action<ToolGraphEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        builder.Services.AddOptions<ToolGraphEngineOptions>().Bind(configuration.GetSection(ToolGraphEngineOptions.SectionName));
        return AddCore(builder, configure);
    }

    private static IGraphEventsBuilder AddCore(IGraphEventsBuilder builder, Action<ToolGraphEngineOptions>? configure)
    {
        var services = builder.Services;
        var options = services.AddOptions<ToolGraphEngineOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ToolGraphEngineOptions>, OptionsValidator<ToolGraphEngineOptions>>(static _ => new(static o => o.Validate())));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IToolGraphStore>(static _ => new InMemoryToolGraphStore());
        services.TryAddSingleton<IToolGraphEngine>(static provider =>
        {
            // Resolving options runs the validators, so an engine never starts on bad options.
            var value = provider.GetRequiredService<IOptions<ToolGraphEngineOptions>>().Value;
            return new ToolGraphEngineCore(
                provider.GetRequiredService<IGraphEventPublisher>(),
                provider.GetRequiredService<IToolGraphStore>(),
                value,
                provider.GetRequiredService<TimeProvider>(),

                // The broadcaster's limit, so that the engine refuses an oversized event before it
                // learns instead of the publisher refusing it after the change is stored.
                provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value.MaxEventBytes);
        });

        // Learns at once; a learner on Redis (Pml.GraphEvents.Redis) replaces it with the shared log's.
        services.TryAddSingleton<IExecutionIngest>(static provider => new EngineExecutionIngest(provider.GetRequiredService<IToolGraphEngine>()));
        return builder;
    }
}
