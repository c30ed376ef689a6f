using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Server;

/// <summary>Runs the <see cref="WorkflowSimulator"/> only when <see cref="ServerOptions.Simulate"/> is on.</summary>
internal sealed class ConditionalSimulator(IOptions<ServerOptions> options, IServiceProvider services) : IHostedService
{
    private WorkflowSimulator? _simulator;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Simulate)
        {
            return Task.CompletedTask;
        }

        _simulator = services.GetRequiredService<WorkflowSimulator>();
        return _simulator.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _simulator?.StopAsync(cancellationToken) ?? Task.CompletedTask;
}
