using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
    public async Task Invalid_options_stop_start_up_with_a_message_naming_the_option(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StreamServer.StartAsync(configure: b => b.Configuration[key] = value));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
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
