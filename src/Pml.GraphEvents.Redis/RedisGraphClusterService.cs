using Microsoft.Extensions.Hosting;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Starts the cluster once the host has started (every hosted service has, the host's own
/// start-up included), and stops it, giving the learner's lease up, when the host stops.
/// </summary>
internal sealed class RedisGraphClusterService(RedisGraphCluster cluster, IHostApplicationLifetime lifetime) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStarted.Register(static state => _ = ((RedisGraphCluster)state!).StartAsync(), cluster);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _registration.DisposeAsync().ConfigureAwait(false);
        await cluster.DisposeAsync().ConfigureAwait(false);
    }
}
