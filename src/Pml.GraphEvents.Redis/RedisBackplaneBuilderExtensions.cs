using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>Adds the Redis Streams scale-out backplane on top of <c>AddGraphEvents()</c>.</summary>
public static class RedisBackplaneBuilderExtensions
{
    /// <summary>
    /// Shares the broadcast of every instance that uses the same Redis and
    /// <see cref="RedisBackplaneOptions.StreamKey"/>: events published on any instance are appended
    /// to a Redis Stream, and every instance delivers the stream, in its order, under its ids.
    /// The backplane creates, owns and disposes its connection (from
    /// <see cref="RedisBackplaneOptions.ConnectionString"/> or <see cref="RedisBackplaneOptions.ConfigurationOptions"/>).
    /// Options are validated when the host starts.
    /// </summary>
    /// <remarks>
    /// Options are bound from the <c>GraphEvents:Redis</c> section of the <see cref="IConfiguration"/>
    /// in the container, taken when the options are first built: the host may register its
    /// configuration before or after this call. Without one, only code sets them. Configuration is
    /// applied first, then <paramref name="configure"/>, so code wins.
    /// </remarks>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="configure">Sets options in code; applied after configuration binding.</param>
    public static IGraphEventsBuilder AddRedisBackplane(this IGraphEventsBuilder builder, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        BindFromContainer(builder.Services);
        return AddCore(builder, null, configure);
    }

    /// <summary>
    /// Adds the backplane on a connection the application already has (one multiplexer per process,
    /// as StackExchange.Redis recommends), for example
    /// <c>AddRedisBackplane(provider =&gt; provider.GetRequiredService&lt;IConnectionMultiplexer&gt;())</c>.
    /// <see cref="RedisBackplaneOptions.ConnectionString"/> and <see cref="RedisBackplaneOptions.ConfigurationOptions"/>
    /// are then not needed and not used.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The backplane never closes or disposes a multiplexer it did not create: when the host stops,
    /// it unsubscribes its own notification channel and leaves the connection to its owner (a
    /// multiplexer registered in the container is disposed by the container, as any singleton).
    /// </para>
    /// <para>
    /// Because it cannot close the connection, a stop while Redis is away may wait for a command
    /// in flight up to the multiplexer's own timeout (<c>SyncTimeout</c>/<c>AsyncTimeout</c>), beyond
    /// <see cref="RedisBackplaneOptions.StopTimeout"/>. The backplane also does not change the
    /// multiplexer's settings: its reconnect policy and <c>AbortOnConnectFail</c> stay the owner's.
    /// </para>
    /// <para>Options are bound as for <see cref="AddRedisBackplane(IGraphEventsBuilder, Action{RedisBackplaneOptions})"/>.</para>
    /// </remarks>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="multiplexer">Returns the connection; called once, when the backplane is created.</param>
    /// <param name="configure">Sets options in code; applied after configuration binding.</param>
    public static IGraphEventsBuilder AddRedisBackplane(this IGraphEventsBuilder builder, Func<IServiceProvider, IConnectionMultiplexer> multiplexer, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(multiplexer);
        BindFromContainer(builder.Services);
        return AddCore(builder, multiplexer, configure);
    }

    /// <summary>Adds the backplane connected with a StackExchange.Redis configuration string, for example <c>localhost:6379</c>.</summary>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="connectionString">The Redis configuration string.</param>
    public static IGraphEventsBuilder AddRedisBackplane(this IGraphEventsBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddRedisBackplane(options => options.ConnectionString = connectionString);
    }

    /// <summary>
    /// Adds the backplane with options bound from the <c>GraphEvents:Redis</c> section of
    /// <paramref name="configuration"/> (for example <c>GraphEvents:Redis:ConnectionString</c>)
    /// instead of the container's configuration.
    /// </summary>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="configuration">The configuration root (or any configuration that has a <c>GraphEvents:Redis</c> section).</param>
    /// <param name="configure">Sets options in code after binding.</param>
    public static IGraphEventsBuilder AddRedisBackplane(this IGraphEventsBuilder builder, IConfiguration configuration, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        builder.Services.AddOptions<RedisBackplaneOptions>().Bind(configuration.GetSection(RedisBackplaneOptions.SectionName));
        return AddCore(builder, null, configure);
    }

    // Bound when the options are built, from whatever IConfiguration the container has then, so the
    // order in which the host registers its configuration and calls AddRedisBackplane does not matter.
    private static void BindFromContainer(IServiceCollection services) =>
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RedisBackplaneOptions>, RedisBackplaneConfigurationBinding>());

    private static IGraphEventsBuilder AddCore(IGraphEventsBuilder builder, Func<IServiceProvider, IConnectionMultiplexer>? multiplexer, Action<RedisBackplaneOptions>? configure)
    {
        var services = builder.Services;
        var options = services.AddOptions<RedisBackplaneOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (multiplexer is not null)
        {
            // Tells the validator that no connection settings are needed, and the backplane what to use.
            services.TryAddSingleton(new RedisSharedMultiplexer(multiplexer));
        }

        // Connection settings are needed only when the application gave no connection of its own.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisBackplaneOptions>, OptionsValidator<RedisBackplaneOptions>>(static provider =>
            new(options => options.Validate(needsConnection: provider.GetService<RedisSharedMultiplexer>() is null))));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new RedisBackplane(
            provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value,
            provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value.ReplayCapacity,
            provider.GetRequiredService<TimeProvider>(),
            (ILogger?)provider.GetService<ILogger<RedisBackplane>>() ?? NullLogger.Instance,
            provider.GetService<IMeterFactory>(),
            provider.GetService<RedisSharedMultiplexer>()?.Factory(provider)));
        services.TryAddSingleton<IGraphEventBackplane>(static provider => provider.GetRequiredService<RedisBackplane>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisBackplaneStarter>());
        return builder;
    }
}
