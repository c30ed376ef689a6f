using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>The story's own check: the real curl binary reads the stream.</summary>
public sealed class CurlTests
{
    [Fact]
    public async Task Curl_reads_the_connected_frame_and_the_published_frames()
    {
        await using var server = await StreamServer.StartAsync();

        await using (var curl = CurlStream.Open(server.StreamUri()))
        {
            // curl -N writes each chunk as it arrives: the connected frame comes before any event.
            await curl.ReadUntilAsync("event: connected\ndata: {\"client_id\":");
            await server.Broadcaster.PublishAsync(Enumerable.Range(0, 3).Select(SampleEvents.Edge));
            await curl.ReadUntilAsync("-3\nevent: edge_created\n");

            var text = curl.Output;
            Assert.Matches("^retry: 3000\nid: [0-9a-z]{10}-0\nevent: connected\ndata: \\{\"client_id\":\"", text);
            Assert.Contains("-1\nevent: edge_created\ndata: {\"from_tool_id\":\"tool:0\",\"to_tool_id\":\"tool:1\",\"confidence_score\":0.5,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n", text, StringComparison.Ordinal);
            Assert.Contains("-2\nevent: edge_created\n", text, StringComparison.Ordinal);
        }

        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "curl's subscription ended");
    }
}
