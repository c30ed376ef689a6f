using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Redis;

/// <summary>Adds one learner for many instances on top of <c>AddToolGraphEngine()</c> and <c>AddRedisBackplane()</c>.</summary>
public static class RedisLearnerBuilderExtensions
{
    /// <summary>
    /// Makes every instance that shares the Redis backplane's stream hold one and the same graph
    /// (DESIGN §7): executions submitted on any instance (<see cref="IExecutionIngest"/>) are appended
    /// to a shared executions log; the one instance that holds the learner's lease learns them, in
    /// the log's order, exactly once, and appends their events to the shared event stream; every
    /// instance folds that stream into its engine, which serves the same snapshot (with
    /// <see cref="ToolGraphSnapshot.AsOfEventId"/>) everywhere. If the learner stops or dies, another
    /// instance takes over within <see cref="RedisBackplaneOptions.LearnerLease"/> and a third of it.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Call after <c>AddToolGraphEngine()</c> and <c>AddRedisBackplane()</c>. The engine becomes a
    /// replica: <see cref="IToolGraphEngine.UpdateFromExecutionsAsync"/> refuses (use
    /// <see cref="IExecutionIngest"/>), and <see cref="IToolGraphEngine.RegisterToolsAsync"/> changes
    /// this instance only, so every instance must register the same tools at start. The graph store
    /// is not used: the graph lives in Redis (a snapshot and the event stream after it); keep Redis
    /// persistent (AOF) for it to outlive every instance.
    /// </para>
    /// <para>Options are the backplane's (<c>GraphEvents:Redis</c>): <see cref="RedisBackplaneOptions.LearnerLease"/>,
    /// <see cref="RedisBackplaneOptions.SnapshotEveryEvents"/>, <see cref="RedisBackplaneOptions.LearnBatchSize"/>,
    /// <see cref="RedisBackplaneOptions.MaxPendingExecutions"/>.</para>
    /// </remarks>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned, with the engine and the Redis backplane added.</param>
    /// <exception cref="InvalidOperationException">The engine or the backplane has not been added.</exception>
    public static IGraphEventsBuilder AddRedisLearner(this IGraphEventsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(RedisBackplane)))
        {
            throw new InvalidOperationException("AddRedisLearner() needs the Redis backplane: call AddRedisBackplane(...) first.");
        }

        var engine = services.LastOrDefault(static d => d.ServiceType == typeof(IToolGraphEngine))
            ?? throw new InvalidOperationException("AddRedisLearner() needs the tool graph engine: call AddToolGraphEngine(...) first.");
        if (services.Any(static d => d.ServiceType == typeof(RedisGraphCluster)))
        {
            return builder;
        }

        // The engine, made a replica before anything can use it (a host's start-up registering tools
        // must not publish to the shared stream).
        services.Replace(ServiceDescriptor.Singleton<IToolGraphEngine>(provider =>
        {
            var created = engine.ImplementationInstance ?? engine.ImplementationFactory?.Invoke(provider)
                ?? ActivatorUtilities.CreateInstance(provider, engine.ImplementationType!);
            if (created is not ToolGraphEngineCore core)
            {
                throw new InvalidOperationException("A learner on Redis needs this library's tool graph engine (AddToolGraphEngine()), not another IToolGraphEngine.");
            }

            core.UseSharedLog();
            return core;
        }));
        services.TryAddSingleton(static provider => new RedisGraphCluster(
            provider.GetRequiredService<RedisBackplane>(),
            provider.GetRequiredService<IToolGraphEngine>(),
            provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value,
            provider.GetRequiredService<IOptions<ToolGraphEngineOptions>>().Value,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            provider.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<IRedisCluster>(static provider => provider.GetRequiredService<RedisGraphCluster>());
        services.Replace(ServiceDescriptor.Singleton<IExecutionIngest>(static provider => new RedisExecutionIngest(provider.GetRequiredService<RedisGraphCluster>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisGraphClusterService>());
        return builder;
    }
}
