using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Broken request bodies on <c>POST /executions</c> are the client's fault: they get 400 (or 408,
/// 413), never 500, and nothing is logged above debug, and no stack trace at all.
/// </summary>
public sealed class MalformedBodyTests
{
    private const string Head = "POST /executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    private const string Chunked = Head + "Transfer-Encoding: chunked\r\n\r\n";

    // Everything down to debug reaches the capture (appsettings.json would drop below Information).
    private static readonly Dictionary<string, string> Debug = new() { ["Logging:LogLevel:Default"] = "Debug" };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> Broken => new()
    {
        { "chunk size overflows", Chunked + "FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n" },
        { "chunk size is not hex", Chunked + "zz\r\n{}\r\n0\r\n\r\n" },
        { "chunk data without its CRLF", Chunked + "2\r\n{}0\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task A_malformed_chunked_body_gets_400_and_no_error_log(string what, string request)
    {
        var logs = new AllLogsProvider();
        await using var server = await RunningServer.StartAsync(settings: Debug, logger: logs);
        var answer = await RawHttp.ExchangeAsync(server.EndPoint, Encoding.Latin1.GetBytes(request));
        Assert.True(RawHttp.Status(answer) == 400, $"{what}: {answer}\n{string.Join("\n", logs.Entries.Where(e => e.Exception is not null || e.Category.Contains("Ingest", StringComparison.Ordinal)).Select(e => $"{e.Level} {e.Category}: {e.Exception}"))}");
        await server.AssertHealthyAsync();
        AssertQuiet(logs);
    }

    [Fact]
    public async Task A_trailer_with_a_nul_closes_the_connection_without_a_500_or_an_error_log()
    {
        // Kestrel refuses it as an invalid operation, after which it can neither finish the body
        // nor keep the connection: the server closes it (no answer, rather than a 500).
        var logs = new AllLogsProvider();
        await using var server = await RunningServer.StartAsync(settings: Debug, logger: logs);
        string answer;
        try
        {
            answer = await RawHttp.ExchangeAsync(server.EndPoint, Encoding.Latin1.GetBytes(Chunked + "2\r\n{}\r\n0\r\nX-Trailer: a\0b\r\n\r\n"));
        }
        catch (SocketException)
        {
            answer = string.Empty; // closed with a reset
        }

        Assert.True(answer.Length == 0 || RawHttp.Status(answer) == 400, answer);
        await Eventually.HoldsAsync(() => logs.Entries.Any(e => e.Category == "Pml.GraphEvents.Server.Ingest"), "the refusal logged at debug");
        await server.AssertHealthyAsync();
        AssertQuiet(logs);
    }

    [Fact]
    public async Task A_body_shorter_than_declared_gets_400_and_a_stalled_one_408_without_error_logs()
    {
        var logs = new AllLogsProvider();
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>(Debug) { ["Server:BodyReadTimeout"] = "00:00:02" }, logger: logs);

        // Ended early: the client closes its side after 2 of 100 bytes.
        using (var socket = await RawHttp.ConnectAsync(server.EndPoint, cancellationToken: Token))
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(Head + "Content-Length: 100\r\n\r\n{}"), Token);
            socket.Shutdown(SocketShutdown.Send);
            var answer = await ReceiveAsync(socket, "ended early");
            Assert.True(answer.Length == 0 || RawHttp.Status(answer) == 400, answer);
        }

        // Stalled: 2 of 100 bytes, then nothing, the socket open.
        using (var socket = await RawHttp.ConnectAsync(server.EndPoint, cancellationToken: Token))
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(Head + "Content-Length: 100\r\n\r\n{}"), Token);
            var answer = await ReceiveAsync(socket, "stalled");
            Assert.Equal(408, RawHttp.Status(answer));
        }

        // Aborted: a reset in the middle of a chunked body; nobody is left to answer.
        using (var socket = await RawHttp.ConnectAsync(server.EndPoint, cancellationToken: Token))
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(Chunked + "10\r\n{\"execution"), Token);
        }

        // The first two reached the endpoint and were dealt with (each says so at debug); a reset may end before the endpoint runs.
        await Eventually.HoldsAsync(
            () => logs.Entries.Count(e => e.Category == "Pml.GraphEvents.Server.Ingest") >= 2,
            () => $"two body problems logged; logs:\n{string.Join("\n", logs.Entries.Select(e => $"{e.Level} {e.Category}: {e.Message}"))}");

        await server.AssertHealthyAsync();
        AssertQuiet(logs);
    }

    private static async Task<string> ReceiveAsync(Socket socket, string what)
    {
        try
        {
            return Encoding.Latin1.GetString(await RawHttp.ReceiveUntilAsync(socket, "\r\n\r\n", Token));
        }
        catch (SocketException ex)
        {
            Assert.Fail($"{what}: {ex.Message}");
            throw;
        }
    }

    private static void AssertQuiet(AllLogsProvider logs)
    {
        var loud = logs.Entries.Where(e => e.Level >= LogLevel.Warning || (e.Exception is not null && e.Level > LogLevel.Debug)).ToList();
        Assert.True(loud.Count == 0, string.Join("\n", loud.Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception?.GetType().Name}")));
    }
}
