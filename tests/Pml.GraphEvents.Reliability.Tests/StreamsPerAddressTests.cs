using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// The server's per-address stream limit (<c>GraphEvents:Stream:MaxStreamsPerAddress</c>, 16 by
/// default): one address cannot take every subscriber slot, another address is not affected, and
/// behind a trusted proxy the forwarded client's address is the one counted.
/// </summary>
public sealed class StreamsPerAddressTests
{
    private const int DefaultLimit = 16;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task One_address_gets_16_streams_then_429_while_another_address_still_gets_in()
    {
        await using var server = await RunningServer.StartAsync();
        var open = new List<Socket>();
        try
        {
            for (var i = 0; i < DefaultLimit; i++)
            {
                open.Add(await OpenStreamAsync(server.EndPoint, from: IPAddress.Loopback));
            }

            // Headers only: were it a stream, reading its body would wait for the stream's end.
            using (var refused = await server.Client.GetAsync(server.StreamUri(), HttpCompletionOption.ResponseHeadersRead, Token))
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
                Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
                Assert.NotNull(refused.Headers.RetryAfter?.Delta);
                using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Token));
                Assert.Contains("GraphEvents:Stream:MaxStreamsPerAddress", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
                Assert.Equal(DefaultLimit, problem.RootElement.GetProperty("max").GetInt32());
            }

            // 127.0.0.2 is another client as far as the server can tell (all of 127/8 is loopback).
            open.Add(await OpenStreamAsync(server.EndPoint, from: IPAddress.Parse("127.0.0.2")));
            Assert.Equal(DefaultLimit + 1, server.Broadcaster.SubscriberCount);

            // One of the first address's streams closes (a reset, as a crashed client's): its
            // place is given back, and the address gets a stream again.
            open[0].Dispose();
            open.RemoveAt(0);
            await Eventually.TrueAsync(
                async () =>
                {
                    using var attempt = await server.Client.GetAsync(server.StreamUri(), HttpCompletionOption.ResponseHeadersRead, Token);
                    return attempt.StatusCode == HttpStatusCode.OK;
                },
                "the address got a stream after one of its streams closed");
        }
        finally
        {
            foreach (var socket in open)
            {
                socket.Dispose();
            }
        }

        await server.AssertHealthyAsync();
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_forwarded_client_address_is_counted()
    {
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Server:TrustedProxies"] = "127.0.0.1",
            ["GraphEvents:Stream:MaxStreamsPerAddress"] = "2",
        });
        var open = new List<Socket>();
        try
        {
            // Every request comes from the proxy (127.0.0.1), each on behalf of a client.
            open.Add(await OpenStreamAsync(server.EndPoint, IPAddress.Loopback, forwardedFor: "198.51.100.1"));
            open.Add(await OpenStreamAsync(server.EndPoint, IPAddress.Loopback, forwardedFor: "198.51.100.1"));
            var refused = await RawHttp.ExchangeAsync(server.EndPoint, RawHttp.Get(RunningServer.StreamPath, "X-Forwarded-For: 198.51.100.1\r\n"));
            Assert.Equal(429, RawHttp.Status(refused));

            // Other clients of the same proxy, and the proxy itself, are not affected.
            open.Add(await OpenStreamAsync(server.EndPoint, IPAddress.Loopback, forwardedFor: "198.51.100.2"));
            open.Add(await OpenStreamAsync(server.EndPoint, IPAddress.Loopback, forwardedFor: "203.0.113.9, 198.51.100.3"));
            open.Add(await OpenStreamAsync(server.EndPoint, IPAddress.Loopback));
            Assert.Equal(5, server.Broadcaster.SubscriberCount);
        }
        finally
        {
            foreach (var socket in open)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>A raw stream from the local address <paramref name="from"/>, read up to its connected frame and then held.</summary>
    private static async Task<Socket> OpenStreamAsync(IPEndPoint server, IPAddress from, string? forwardedFor = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { LingerState = new LingerOption(true, 0) };
        try
        {
            socket.Bind(new IPEndPoint(from, 0));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(Eventually.Deadline);
            await socket.ConnectAsync(server, timeout.Token);
            await socket.SendAsync(RawHttp.Get(RunningServer.StreamPath, forwardedFor is null ? null : $"X-Forwarded-For: {forwardedFor}\r\n"), timeout.Token);
            var answer = Encoding.ASCII.GetString(await RawHttp.ReceiveUntilAsync(socket, "event: connected\ndata: ", timeout.Token));
            Assert.True(RawHttp.Status(answer) == 200, $"A stream from {from} (for {forwardedFor ?? "itself"}) was refused: {answer}");
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
