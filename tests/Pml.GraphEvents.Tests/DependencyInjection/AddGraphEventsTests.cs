using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Tests.DependencyInjection;

public sealed class AddGraphEventsTests
{
    [Fact]
    public async Task One_singleton_behind_the_publisher_and_subscriber_interfaces()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddGraphEvents(o => o.MaxSubscribers = 7);
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        var broadcaster = host.Services.GetRequiredService<IGraphEventBroadcaster>();
        Assert.Same(broadcaster, host.Services.GetRequiredService<IGraphEventPublisher>());
        Assert.Same(broadcaster, host.Services.GetRequiredService<IGraphEventSubscriber>());
        Assert.Equal(7, broadcaster.MaxSubscribers);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Options_bind_from_the_GraphEvents_section()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GraphEvents:MaxSubscribers"] = "2",
            ["GraphEvents:HeartbeatInterval"] = "00:00:05",
            ["GraphEvents:SlowSubscriberPolicy"] = "DropOldest",
        });
        builder.Services.AddGraphEvents(builder.Configuration);
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        var options = host.Services.GetRequiredService<IOptions<GraphEventsOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(5), options.HeartbeatInterval);
        Assert.Equal(SlowSubscriberPolicy.DropOldest, options.SlowSubscriberPolicy);
        var subscriber = host.Services.GetRequiredService<IGraphEventSubscriber>();
        Assert.True(subscriber.TrySubscribe(out _));
        Assert.True(subscriber.TrySubscribe(out _));
        Assert.False(subscriber.TrySubscribe(out _));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    public static TheoryData<string, string> InvalidSettings() => new()
    {
        { "MaxSubscribers", "0" },
        { "MaxSubscribers", "100001" },
        { "IngressCapacity", "0" },
        { "SubscriberBufferCapacity", "-1" },
        { "ReplayCapacity", "0" },
        { "HeartbeatInterval", "00:00:00" },
        { "HeartbeatInterval", "-00:00:01" },
        { "MaxEventBytes", "1023" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task Invalid_options_fail_start_up_naming_the_option(string option, string value)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"GraphEvents:{option}"] = value });
        builder.Services.AddGraphEvents(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains($"GraphEvents:{option}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_factory_rejects_invalid_options_naming_each_one()
    {
        var error = Assert.Throws<ArgumentException>(() => GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            MaxSubscribers = 0,
            SlowSubscriberPolicy = (SlowSubscriberPolicy)42,
        }));

        Assert.Contains("GraphEvents:MaxSubscribers", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:SlowSubscriberPolicy", error.Message, StringComparison.Ordinal);
    }
}
