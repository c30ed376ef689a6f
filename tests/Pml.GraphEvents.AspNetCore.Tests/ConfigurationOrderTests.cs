using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pml.GraphEvents.AspNetCore;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>Every <c>AddX</c> binds its section from the container's configuration, whenever the host registers it.</summary>
public sealed class ConfigurationOrderTests
{
    private static IConfiguration Configuration() => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GraphEvents:MaxSubscribers"] = "7",
            ["GraphEvents:Engine:MaxEdgesPerExecution"] = "9",
            ["GraphEvents:Stream:MaxBatchBytes"] = "4096",
        })
        .Build();

    [Fact]
    public void Configuration_registered_after_the_calls_is_bound()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddToolGraphEngine().AddGraphEventStream();
        services.AddSingleton(Configuration());
        using var provider = services.BuildServiceProvider();

        Assert.Equal(7, provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value.MaxSubscribers);
        Assert.Equal(9, provider.GetRequiredService<IOptions<ToolGraphEngineOptions>>().Value.MaxEdgesPerExecution);
        Assert.Equal(4096, provider.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value.MaxBatchBytes);
    }

    [Fact]
    public void Stream_options_are_bound_from_configuration_registered_after_AddGraphEventStream()
    {
        // AddGraphEventStream used to look for IConfiguration among the services at the call.
        var services = new ServiceCollection();
        services.AddGraphEvents().AddGraphEventStream();
        services.AddSingleton(Configuration());
        using var provider = services.BuildServiceProvider();

        Assert.Equal(4096, provider.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value.MaxBatchBytes);
    }

    [Fact]
    public void Configuration_registered_before_the_calls_is_bound()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Configuration());
        services.AddGraphEvents().AddToolGraphEngine().AddGraphEventStream();
        using var provider = services.BuildServiceProvider();

        Assert.Equal(7, provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value.MaxSubscribers);
        Assert.Equal(9, provider.GetRequiredService<IOptions<ToolGraphEngineOptions>>().Value.MaxEdgesPerExecution);
        Assert.Equal(4096, provider.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value.MaxBatchBytes);
    }

    [Fact]
    public void Without_configuration_the_defaults_apply()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddToolGraphEngine().AddGraphEventStream();
        using var provider = services.BuildServiceProvider();

        Assert.Equal(new GraphEventsOptions().MaxSubscribers, provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value.MaxSubscribers);
        Assert.Equal(new ToolGraphEngineOptions().MaxEdgesPerExecution, provider.GetRequiredService<IOptions<ToolGraphEngineOptions>>().Value.MaxEdgesPerExecution);
        Assert.Equal(new GraphEventStreamOptions().MaxBatchBytes, provider.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value.MaxBatchBytes);
        Assert.NotNull(provider.GetRequiredService<IGraphEventBroadcaster>());
    }

    [Fact]
    public void Code_wins_over_configuration_whatever_the_order()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents(o => o.MaxSubscribers = 70)
            .AddToolGraphEngine(o => o.MaxEdgesPerExecution = 90)
            .AddGraphEventStream(o => o.MaxBatchBytes = 8192);
        services.AddSingleton(Configuration());
        using var provider = services.BuildServiceProvider();

        Assert.Equal(70, provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value.MaxSubscribers);
        Assert.Equal(90, provider.GetRequiredService<IOptions<ToolGraphEngineOptions>>().Value.MaxEdgesPerExecution);
        Assert.Equal(8192, provider.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value.MaxBatchBytes);
    }

    [Fact]
    public void An_explicit_configuration_is_used_instead_of_the_containers()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Configuration());
        var other = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["GraphEvents:MaxSubscribers"] = "3", ["GraphEvents:Engine:MaxEdgesPerExecution"] = "4" })
            .Build();
        services.AddGraphEvents(other).AddToolGraphEngine(other);
        using var provider = services.BuildServiceProvider();

        Assert.Equal(3, provider.GetRequiredService<IOptions<GraphEventsOptions>>().Value.MaxSubscribers);
        Assert.Equal(4, provider.GetRequiredService<IOptions<ToolGraphEngineOptions>>().Value.MaxEdgesPerExecution);
    }
}
