using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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

    /// <summary>A bad value under every validated key of <c>GraphEvents:Redis</c>.</summary>
    public static TheoryData<string, string> EveryKey() => new()
    {
        { "GraphEvents:Redis:ConnectionString", "127.0.0.1:1,no-such-setting=1" },
        { "GraphEvents:Redis:StreamKey", " " },
        { "GraphEvents:Redis:MaxLength", "0" },
        { "GraphEvents:Redis:PollInterval", "00:00:00" },
        { "GraphEvents:Redis:OutageBufferCapacity", "0" },
        { "GraphEvents:Redis:MaxResumeEntries", "0" },
        { "GraphEvents:Redis:StopTimeout", "00:02:00" },
        { "GraphEvents:Redis:StartTimeout", "01:00:00" },
        { "GraphEvents:Redis:PresenceInterval", "00:00:00" },
    };

    [Theory]
    [MemberData(nameof(EveryKey))]
    public async Task A_bad_value_under_each_key_stops_a_real_host_with_one_failure_naming_the_key(string key, string value)
    {
        // Validation comes before the backplane connects: nothing listens on port 1.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartFromConfigurationAsync(new()
        {
            ["GraphEvents:Redis:ConnectionString"] = "127.0.0.1:1",
            [key] = value,
        }));
        var failure = Assert.Single(error.Failures);
        Assert.StartsWith(key + " ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_connection_settings_start_up_names_the_connection_string_unless_the_application_gives_its_connection()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartFromConfigurationAsync([]));
        Assert.StartsWith("GraphEvents:Redis:ConnectionString is required", Assert.Single(error.Failures), StringComparison.Ordinal);

        // On the application's connection the same (empty) configuration is valid: the host starts.
        var multiplexer = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:1,abortConnect=false,connectTimeout=100");
        await using (multiplexer)
        {
            var host = await StartFromConfigurationAsync([], multiplexer);
            await host.DisposeAsync();
        }
    }

    // A real host on Kestrel with the backplane bound from configuration alone (no code options).
    private static Task<TestHost> StartFromConfigurationAsync(Dictionary<string, string?> settings, IConnectionMultiplexer? multiplexer = null) =>
        TestHost.StartAsync(builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            var graphEvents = builder.Services.AddGraphEvents();
            _ = multiplexer is null ? graphEvents.AddRedisBackplane() : graphEvents.AddRedisBackplane(_ => multiplexer, o => o.StartTimeout = TimeSpan.Zero);
        });
}
