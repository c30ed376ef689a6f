using Microsoft.Extensions.DependencyInjection;

namespace Pml.GraphEvents;

internal sealed class GraphEventsBuilder(IServiceCollection services) : IGraphEventsBuilder
{
    public IServiceCollection Services { get; } = services;
}
