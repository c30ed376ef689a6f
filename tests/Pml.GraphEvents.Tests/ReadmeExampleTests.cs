using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Pml.GraphEvents.Tests;

/// <summary>The README's "In 30 seconds" example, kept here so that it is known to run.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task The_readme_example_prints_connected_then_the_edge()
    {
        var output = new StringBuilder();
        var builder = Host.CreateApplicationBuilder([]);
        builder.Services.AddGraphEvents(builder.Configuration); // binds "GraphEvents", validated at start-up
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        var broadcaster = host.Services.GetRequiredService<IGraphEventBroadcaster>();
        using var subscription = broadcaster.Subscribe(); // past MaxSubscribers it throws; TrySubscribe returns false instead
        await broadcaster.PublishAsync(new EdgeCreatedEvent("git:status", "git:commit", 0.5, DateTimeOffset.UtcNow), TestContext.Current.CancellationToken);

        await foreach (var frame in subscription.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            // frame.Event is the typed event; frame.Utf8Bytes is its SSE frame, shared by every subscriber.
            output.Append(Encoding.UTF8.GetString(frame.Utf8Bytes.Span));
            if (frame.Event is EdgeCreatedEvent)
            {
                break;
            }
        }

        var text = output.ToString();
        Assert.StartsWith("id: 0\nevent: connected\ndata: {\"client_id\":\"", text, StringComparison.Ordinal);
        Assert.Contains("\n\nid: 1\nevent: edge_created\ndata: {\"from_tool_id\":\"git:status\",\"to_tool_id\":\"git:commit\",\"confidence_score\":0.5,\"timestamp\":\"", text, StringComparison.Ordinal);
        Assert.EndsWith("Z\"}\n\n", text, StringComparison.Ordinal);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}
