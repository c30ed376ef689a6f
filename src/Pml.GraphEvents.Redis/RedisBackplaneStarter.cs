using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Creates the broadcaster (which starts the backplane) when the host starts, and holds start-up
/// until the backplane knows where the stream is, so the first requests resume correctly. Does not
/// hold it longer than <see cref="RedisBackplaneOptions.StartTimeout"/>: Redis may be down, and the
/// service must come up anyway.
/// </summary>
internal sealed class RedisBackplaneStarter(IServiceProvider services, RedisBackplane backplane, IOptions<RedisBackplaneOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<IGraphEventBroadcaster>();
        try
        {
            await backplane.Started.WaitAsync(options.Value.StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Keep starting: the backplane goes on connecting by itself.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
