using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Loads the learner's latest snapshot while the host starts (bounded by
/// <see cref="RedisBackplaneOptions.StartTimeout"/>: Redis may be down, and the host must come up
/// anyway), then starts the fold and the learner once the host has started: the host's own start-up
/// (registering its tools) has then run on the same state as on every instance. Stops them, giving
/// the learner's lease up, when the host stops.
/// </summary>
internal sealed partial class RedisGraphClusterService(RedisGraphCluster cluster, IHostApplicationLifetime lifetime, IOptions<RedisBackplaneOptions> options, ILogger<RedisGraphClusterService> logger) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await cluster.LoadAsync(cancellationToken).WaitAsync(options.Value.StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or RedisException)
        {
            // The fold loads it when Redis answers; until then this instance serves what it has.
            LogNotLoaded(logger, options.Value.StartTimeout, ex);
        }

        _registration = lifetime.ApplicationStarted.Register(static state =>
        {
            var (cluster, logger) = ((RedisGraphCluster, ILogger))state!;
            cluster.StartAsync().ContinueWith(
                static (task, log) => LogNotStarted((ILogger)log!, task.Exception!),
                logger,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
        }, (cluster, (ILogger)logger));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _registration.DisposeAsync().ConfigureAwait(false);
        await cluster.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(LogLevel.Warning, "The shared graph's snapshot could not be loaded within {StartTimeout}; this instance starts without it and loads it once Redis answers.")]
    private static partial void LogNotLoaded(ILogger logger, TimeSpan startTimeout, Exception exception);

    [LoggerMessage(LogLevel.Critical, "The shared graph's learner and replica could not start: this instance neither learns nor follows the graph.")]
    private static partial void LogNotStarted(ILogger logger, Exception exception);
}
