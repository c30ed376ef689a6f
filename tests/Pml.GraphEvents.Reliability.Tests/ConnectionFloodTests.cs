using System.Net;
using System.Net.Sockets;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Idle connections under a common file limit (1,024): the server bounds the connections it holds
/// (derived from that limit) and closes those that never send a request, so it stays up and its
/// readers, <c>POST /executions</c> and <c>/healthz</c> keep working.
/// </summary>
public sealed class ConnectionFloodTests
{
    private const int IdleSockets = 1_100;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Eleven_hundred_idle_sockets_under_a_limit_of_1024_files_leave_the_server_up_and_serving()
    {
        await using var server = await ChildServer.StartAsync(openFiles: 1_024);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var streamHttp = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };

        // One stream, opened before the flood and never reconnected: it must live through it.
        await using var reader = await RecordingStream.OpenAsync(streamHttp, new Uri(server.BaseAddress, "events/stream"));
        await Eventually.HoldsAsync(() => reader.CountFrames("connected") == 1, "the reader connected");

        var sockets = new List<Socket>(IdleSockets);
        try
        {
            for (var i = 0; i < IdleSockets; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                try
                {
                    await socket.ConnectAsync(server.EndPoint, Token);
                }
                catch (SocketException)
                {
                    // The backlog was full for a moment: this one never got in, which is a refusal too.
                }
            }

            // Held, sending nothing, for 15 s.
            var until = DateTime.UtcNow.AddSeconds(15);
            while (DateTime.UtcNow < until)
            {
                if (server.HasExited)
                {
                    Assert.Fail($"The server died ({server.ExitCode}):\n{server.Output}");
                }

                await Task.Delay(250, Token);
            }

            // Still holding every socket: the idle ones are closed by the server in bounded time, so these get in.
            await Eventually.TrueAsync(async () => await StatusAsync(http, () => http.GetAsync("healthz", Token)) == HttpStatusCode.OK, "/healthz answers 200");
            await Eventually.TrueAsync(
                async () => await StatusAsync(http, () => http.PostAsync("executions", RunningServer.Json("""{"execution_id":"after-flood","tool_ids":["git:status","git:commit"]}"""), Token)) == HttpStatusCode.Accepted,
                "POST /executions answers 202");
            await Eventually.HoldsAsync(
                () => reader.Frames().Any(f => f.EventType == "workflow_executed" && f.Data.Contains("after-flood", StringComparison.Ordinal)),
                "the reader received the execution posted after the flood");
            Assert.False(reader.Ended, "The reader's stream ended during the flood.");
            Assert.False(server.HasExited);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient http, Func<Task<HttpResponseMessage>> send)
    {
        _ = http;
        try
        {
            using var response = await send();
            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // Closed at accept while the server is at its bound: try again.
            return null;
        }
    }
}
