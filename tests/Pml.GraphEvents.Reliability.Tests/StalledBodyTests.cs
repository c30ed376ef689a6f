using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Bodies sent all but their last byte and then stalled: the server bounds what they hold together
/// (<c>Server:MaxPendingBodyBytes</c>; past it 503 with <c>Retry-After</c>) and how long each may
/// take (<c>Server:BodyReadTimeout</c>; then 408), and keeps serving everyone else.
/// </summary>
public sealed class StalledBodyTests
{
    private const int Bodies = 500;
    private const int BodyBytes = 1_000_000;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Five_hundred_one_megabyte_bodies_stalled_one_byte_short_hold_bounded_memory_and_are_answered_in_time()
    {
        var timeout = TimeSpan.FromSeconds(3);
        await using var server = await ChildServer.StartAsync(extraArgs: ["--Server:BodyReadTimeout=00:00:03"]);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using (var warm = await http.PostAsync("executions", RunningServer.Json("""{"execution_id":"warm","tool_ids":["git:status","git:commit"]}"""), Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, warm.StatusCode);
        }

        var baseline = server.ResidentBytes();
        var head = Encoding.ASCII.GetBytes($"POST /executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {BodyBytes}\r\n\r\n");
        var almost = new byte[BodyBytes - 1];
        almost.AsSpan().Fill((byte)' ');

        var peak = baseline;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.ResidentBytes());
                await Task.Delay(50, CancellationToken.None);
            }
        }, CancellationToken.None);

        var sockets = new List<Socket>(Bodies);
        try
        {
            var started = Stopwatch.StartNew();
            var answers = await Task.WhenAll(Enumerable.Range(0, Bodies).Select(async _ =>
            {
                var socket = await RawHttp.ConnectAsync(server.EndPoint, cancellationToken: Token);
                lock (sockets)
                {
                    sockets.Add(socket);
                }

                try
                {
                    await socket.SendAsync(head, Token);
                    await socket.SendAsync(almost, Token);
                    var answer = Encoding.Latin1.GetString(await RawHttp.ReceiveUntilAsync(socket, "\r\n\r\n", Token));
                    return (Status: answer.Length == 0 ? 0 : RawHttp.Status(answer), started.Elapsed);
                }
                catch (SocketException)
                {
                    // Refused and closed while still sending: the server would not hold it.
                    return (Status: 0, started.Elapsed);
                }
            }));

            // Someone else is served meanwhile and after.
            using (var other = await http.PostAsync("executions", RunningServer.Json("""{"execution_id":"other","tool_ids":["git:status","git:push"]}"""), Token))
            {
                Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
            }

            await sampling.CancelAsync();
            await sampler;

            Assert.All(answers, a => Assert.Contains(a.Status, (int[])[408, 503, 0]));
            Assert.Contains(answers, a => a.Status == 408);
            Assert.Contains(answers, a => a.Status == 503);
            Assert.True(answers.Max(a => a.Elapsed) < timeout + TimeSpan.FromSeconds(30), $"The last stalled body was answered after {answers.Max(a => a.Elapsed)}.");

            // 500 × 1 MB held would be 500 MB; the budget is 64 MiB (arrays of exactly the declared size).
            var growth = peak - baseline;
            Assert.True(growth < 250L * 1024 * 1024, $"RSS grew by {growth / (1024 * 1024)} MB (from {baseline / (1024 * 1024)} MB).");
        }
        finally
        {
            await sampling.CancelAsync();
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }
}
