using Microsoft.Extensions.DependencyInjection;

namespace Pml.GraphEvents;

/// <summary>Returned by <c>AddGraphEvents</c>, so that add-ons (such as a scale-out backplane) can chain onto it.</summary>
public interface IGraphEventsBuilder
{
    /// <summary>The host's services.</summary>
    IServiceCollection Services { get; }
}
