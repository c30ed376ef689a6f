using System.Diagnostics;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>The story's own check: the real curl binary reads the stream.</summary>
public sealed class CurlTests
{
    private const string Curl = "/usr/bin/curl";

    [Fact]
    public async Task Curl_reads_the_connected_frame_and_the_published_frames()
    {
        Assert.SkipUnless(File.Exists(Curl), $"{Curl} is not installed: this test runs the real curl binary.");
        await using var server = await StreamServer.StartAsync();

        var start = new ProcessStartInfo(Curl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-sSN", "-H", "Accept: text/event-stream", "--max-time", "30", server.StreamUri().ToString() })
        {
            start.ArgumentList.Add(argument);
        }

        using var curl = Process.Start(start)!;
        var errors = curl.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            // curl -N writes each chunk as it arrives: the connected frame comes before any event.
            var output = new System.Text.StringBuilder();
            var buffer = new char[8192];

            async Task ReadUntilAsync(string text)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
                timeout.CancelAfter(SseClient.Deadline);
                while (!output.ToString().Contains(text, StringComparison.Ordinal))
                {
                    int read;
                    try
                    {
                        read = await curl.StandardOutput.ReadAsync(buffer, timeout.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        Assert.Fail($"curl printed no '{text}' in time. Output:\n{output}");
                        throw;
                    }

                    if (read == 0)
                    {
                        await curl.WaitForExitAsync(timeout.Token);
                        Assert.Fail($"curl exited ({curl.ExitCode}) before '{text}'. Output:\n{output}\nErrors:\n{await errors}");
                    }

                    output.Append(buffer, 0, read);
                }
            }

            await ReadUntilAsync("event: connected\ndata: {\"client_id\":");
            await server.Broadcaster.PublishAsync(Enumerable.Range(0, 3).Select(SampleEvents.Edge));
            await ReadUntilAsync("id: 3\nevent: edge_created\n");

            var text = output.ToString();
            Assert.StartsWith("retry: 3000\nid: 0\nevent: connected\ndata: {\"client_id\":\"", text, StringComparison.Ordinal);
            Assert.Contains("id: 1\nevent: edge_created\ndata: {\"from_tool_id\":\"tool:0\",\"to_tool_id\":\"tool:1\",\"confidence_score\":0.5,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n", text, StringComparison.Ordinal);
            Assert.Contains("id: 2\nevent: edge_created\n", text, StringComparison.Ordinal);
        }
        finally
        {
            curl.Kill();
            await curl.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "curl's subscription ended");
    }
}
