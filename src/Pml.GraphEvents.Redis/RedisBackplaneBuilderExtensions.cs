using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Redis;

/// <summary>Adds the Redis Streams scale-out backplane on top of <c>AddGraphEvents()</c>.</summary>
public static class RedisBackplaneBuilderExtensions
{
    /// <summary>
    /// Shares the broadcast of every instance that uses the same Redis and
    /// <see cref="RedisBackplaneOptions.StreamKey"/>: events published on any instance are appended
    /// to a Redis Stream, and every instance delivers the stream, in its order, under its ids.
    /// Options are validated when the host starts.
    /// </summary>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="configure">Sets options in code; applied after any configuration binding.</param>
    public static IGraphEventsBuilder AddRedisBackplane(this IGraphEventsBuilder builder, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<RedisBackplaneOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisBackplaneOptions>, RedisBackplaneOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new RedisBackplane(
            provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value,
            provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value.ReplayCapacity,
            provider.GetRequiredService<TimeProvider>(),
            (ILogger?)provider.GetService<ILogger<RedisBackplane>>() ?? NullLogger.Instance,
            provider.GetService<IMeterFactory>()));
        services.TryAddSingleton<IGraphEventBackplane>(static provider => provider.GetRequiredService<RedisBackplane>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisBackplaneStarter>());
        return builder;
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
    /// <paramref name="configuration"/> (for example <c>GraphEvents:Redis:ConnectionString</c>).
    /// </summary>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="configuration">The configuration root (or any configuration that has a <c>GraphEvents:Redis</c> section).</param>
    /// <param name="configure">Sets options in code after binding.</param>
    public static IGraphEventsBuilder AddRedisBackplane(this IGraphEventsBuilder builder, IConfiguration configuration, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        builder.Services.AddOptions<RedisBackplaneOptions>().Bind(configuration.GetSection(RedisBackplaneOptions.SectionName));
        return builder.AddRedisBackplane(configure);
    }
}
