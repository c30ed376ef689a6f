using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class OptionsTests
{
    [Theory]
    [InlineData("GraphEvents:Stream:AllowedOrigins:0", "localhost:3000", "GraphEvents:Stream:AllowedOrigins:0")]
    [InlineData("GraphEvents:Stream:WriteTimeout", "00:00:00", "GraphEvents:Stream:WriteTimeout")]
    [InlineData("GraphEvents:Stream:RetryInterval", "02:00:00", "GraphEvents:Stream:RetryInterval")]
    [InlineData("GraphEvents:Stream:RetryAfter", "00:00:00.5", "GraphEvents:Stream:RetryAfter")]
    [InlineData("GraphEvents:Stream:MaxBatchBytes", "10", "GraphEvents:Stream:MaxBatchBytes")]
    [InlineData("GraphEvents:Stream:MaxStreamDuration", "00:00:00.999", "GraphEvents:Stream:MaxStreamDuration must be at least 1 second and at most 24 hours")]
    [InlineData("GraphEvents:Stream:MaxStreamDuration", "1.00:00:01", "GraphEvents:Stream:MaxStreamDuration")]
    [InlineData("GraphEvents:Stream:MaxStreamsPerAddress", "0", "GraphEvents:Stream:MaxStreamsPerAddress must be between 1 and 100,000")]
    [InlineData("GraphEvents:Stream:MaxStreamsPerAddress", "100001", "GraphEvents:Stream:MaxStreamsPerAddress")]
    public async Task Invalid_options_stop_start_up_with_a_message_naming_the_option(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StreamServer.StartAsync(configure: b => b.Configuration[key] = value));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A bad value under every validated key of the three sections an ASP.NET Core host binds.</summary>
    public static TheoryData<string, string> EveryKey() => new()
    {
        { "GraphEvents:MaxSubscribers", "0" },
        { "GraphEvents:IngressCapacity", "0" },
        { "GraphEvents:SubscriberBufferCapacity", "0" },
        { "GraphEvents:ReplayCapacity", "0" },
        { "GraphEvents:MaxEventBytes", "10" },
        { "GraphEvents:SubscriberBufferCapacityBytes", "10" },
        { "GraphEvents:ReplayCapacityBytes", "10" },
        { "GraphEvents:HeartbeatInterval", "00:00:00" },
        { "GraphEvents:SlowSubscriberPolicy", "42" },
        { "GraphEvents:Engine:SyncConfidenceThreshold", "1.5" },
        { "GraphEvents:Engine:MaxEdgesPerExecution", "0" },
        { "GraphEvents:Stream:RetryInterval", "00:00:00" },
        { "GraphEvents:Stream:WriteTimeout", "02:00:00" },
        { "GraphEvents:Stream:MaxBatchBytes", "16777217" },
        { "GraphEvents:Stream:MaxStreamDuration", "00:00:00.5" },
        { "GraphEvents:Stream:RetryAfter", "00:00:00" },
        { "GraphEvents:Stream:MaxStreamsPerAddress", "0" },
        { "GraphEvents:Stream:AllowedOrigins:0", "ftp://example.com" },
    };

    [Theory]
    [MemberData(nameof(EveryKey))]
    public async Task A_bad_value_under_each_key_stops_a_real_host_with_one_failure_naming_the_key(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StreamServer.StartAsync(configure: b =>
        {
            b.Configuration[key] = value;
            b.Services.AddGraphEvents().AddToolGraphEngine();
        }));

        // One failure, not two: the stream's writer settings are checked once, by the writer's own check.
        var failure = Assert.Single(error.Failures);
        Assert.StartsWith(key + " ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_writer_settings_of_the_stream_fail_with_the_writers_ranges_under_their_full_keys()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StreamServer.StartAsync(configure: b =>
        {
            b.Configuration["GraphEvents:Stream:WriteTimeout"] = "00:00:00";
            b.Configuration["GraphEvents:Stream:MaxStreamDuration"] = "2.00:00:00";
        }));

        Assert.Equal(
            [
                "GraphEvents:Stream:WriteTimeout must be at least 1 ms and at most one hour (was 00:00:00).",
                "GraphEvents:Stream:MaxStreamDuration must be at least 1 second and at most 24 hours, or null (empty in configuration) for no limit (was 2.00:00:00).",
            ],
            error.Failures);
    }

    [Fact]
    public async Task The_endpoint_writes_with_its_options_on_the_containers_clock_unless_code_sets_one()
    {
        var clock = new FakeTimeProvider();
        await using (var server = await StreamServer.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(clock)))
        {
            Assert.Same(clock, server.App.Services.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value.TimeProvider);
        }

        var own = new FakeTimeProvider();
        await using var chosen = await StreamServer.StartAsync(stream: o => o.TimeProvider = own, configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        Assert.Same(own, chosen.App.Services.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value.TimeProvider);
    }

    [Fact]
    public async Task Options_bind_from_configuration_and_code_applies_after()
    {
        await using var server = await StreamServer.StartAsync(
            stream: o => o.RetryAfter = TimeSpan.FromSeconds(9),
            configure: b =>
            {
                b.Configuration["GraphEvents:Stream:RetryInterval"] = "00:00:01.5";
                b.Configuration["GraphEvents:Stream:RetryAfter"] = "00:00:02";
            });
        var options = server.App.Services.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(1.5), options.RetryInterval);
        Assert.Equal(TimeSpan.FromSeconds(9), options.RetryAfter);
        Assert.Null(options.AllowedOrigins);

        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal(TimeSpan.FromMilliseconds(1500), (await client.ReadAsync()).ReconnectionInterval);
    }

    [Fact]
    public async Task The_lifetime_defaults_to_ten_minutes_the_per_address_limit_to_none_and_an_empty_value_means_none()
    {
        await using (var defaults = await StreamServer.StartAsync())
        {
            var options = defaults.App.Services.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value;
            Assert.Equal(TimeSpan.FromMinutes(10), options.MaxStreamDuration);
            Assert.Null(options.MaxStreamsPerAddress);
            Assert.Null(defaults.App.Services.GetRequiredService<GraphEventStreamHandler>().PerAddress);
        }

        await using var configured = await StreamServer.StartAsync(
            stream: o => o.MaxStreamsPerAddress = 3,
            configure: b =>
            {
                b.Configuration["GraphEvents:Stream:MaxStreamDuration"] = string.Empty;
                b.Configuration["GraphEvents:Stream:MaxStreamsPerAddress"] = "7";
            });
        var bound = configured.App.Services.GetRequiredService<IOptions<GraphEventStreamOptions>>().Value;
        Assert.Null(bound.MaxStreamDuration);
        Assert.Equal(3, bound.MaxStreamsPerAddress);
    }

    [Fact]
    public void MapGraphEventStream_without_its_services_says_what_to_call()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGraphEvents();
        using var app = builder.Build();
        var error = Assert.Throws<InvalidOperationException>(() => app.MapGraphEventStream("/events/stream"));
        Assert.Contains("AddGraphEventStream()", error.Message, StringComparison.Ordinal);
    }
}
