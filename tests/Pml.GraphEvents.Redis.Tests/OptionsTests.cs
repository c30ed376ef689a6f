using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Redis.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_need_only_a_connection_string()
    {
        var options = new RedisBackplaneOptions { ConnectionString = "127.0.0.1:1" };
        Assert.Empty(options.Validate());
        Assert.Equal("pml:graph-events", options.StreamKey);
        Assert.Null(options.MaxLength);
    }

    [Fact]
    public void Each_bad_option_is_named()
    {
        var failures = new RedisBackplaneOptions
        {
            StreamKey = " ",
            MaxLength = 0,
            PollInterval = TimeSpan.Zero,
            OutageBufferCapacity = 0,
            StartTimeout = TimeSpan.FromHours(1),
        }.Validate();

        Assert.Contains(failures, f => f.StartsWith("GraphEvents:Redis:ConnectionString ", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("GraphEvents:Redis:StreamKey ", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("GraphEvents:Redis:MaxLength ", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("GraphEvents:Redis:PollInterval ", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("GraphEvents:Redis:OutageBufferCapacity ", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("GraphEvents:Redis:StartTimeout ", StringComparison.Ordinal));
    }

    [Fact]
    public void Resolving_the_broadcaster_with_bad_options_fails_with_the_option_named()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddRedisBackplane(o => o.StreamKey = "");
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IGraphEventBroadcaster>());
        Assert.Contains("GraphEvents:Redis:StreamKey", error.Message, StringComparison.Ordinal);
    }
}
