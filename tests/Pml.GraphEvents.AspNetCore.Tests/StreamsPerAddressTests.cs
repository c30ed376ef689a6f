using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary><see cref="GraphEventStreamOptions.MaxStreamsPerAddress"/>: the endpoint's answers, and the counter under races.</summary>
public sealed class StreamsPerAddressTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Over_the_limit_a_stream_gets_429_naming_the_option_and_a_closed_stream_lets_another_in()
    {
        var logs = new ListLoggerProvider();
        await using var server = await StreamServer.StartAsync(
            stream: o => o.MaxStreamsPerAddress = 2,
            configure: b =>
            {
                b.Logging.AddProvider(logs);
                b.Logging.SetMinimumLevel(LogLevel.Debug);
            });
        var counts = server.App.Services.GetRequiredService<GraphEventStreamHandler>().PerAddress!;
        var first = await SseClient.OpenAsync(server.Client, server.StreamUri());
        await using var second = await SseClient.OpenAsync(server.Client, server.StreamUri());
        await first.ReadAsync();
        await second.ReadAsync();

        using (var request = new HttpRequestMessage(HttpMethod.Get, server.StreamUri()))
        {
            request.Headers.Add("Origin", "http://localhost:5173");
            using var refused = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token);

            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.Equal("http://localhost:5173", Assert.Single(refused.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Equal(["Origin"], refused.Headers.Vary);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Token));
            Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
            Assert.Equal(2, problem.RootElement.GetProperty("max").GetInt32());
            Assert.Contains("GraphEvents:Stream:MaxStreamsPerAddress", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Refused before subscribing: the subscriber slots stay with everyone else.
        Assert.Equal(2, server.Broadcaster.SubscriberCount);
        Assert.Equal(0, server.Broadcaster.GetStatistics().SubscribesRefused);
        Assert.Contains(logs.Entries, e => e.Id.Id == 7 && e.Level == LogLevel.Debug && e.Message.Contains("from 127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Id.Id == 8 && e.Level == LogLevel.Information && e.Message.StartsWith("1 event stream request(s) refused with 429", StringComparison.Ordinal));

        await first.DisposeAsync();
        await Eventually.HoldsAsync(() => counts.CountOf(IPAddress.Loopback) == 1, () => $"the closed stream was released ({counts.CountOf(IPAddress.Loopback)} counted)");
        await using var third = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal(HttpStatusCode.OK, third.Response.StatusCode);
        Assert.Equal("connected", (await third.ReadAsync()).EventType);
    }

    [Fact]
    public async Task Another_address_is_not_affected_by_one_at_its_limit()
    {
        await using var server = await StreamServer.StartAsync(stream: o => o.MaxStreamsPerAddress = 1);
        await using var held = await SseClient.OpenAsync(server.Client, server.StreamUri());
        await held.ReadAsync();
        using (var refused = await server.Client.GetAsync(server.StreamUri(), HttpCompletionOption.ResponseHeadersRead, Token))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        // The whole of 127.0.0.0/8 is loopback: a socket bound to 127.0.0.2 reaches the server
        // on 127.0.0.1 as another client address.
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        other.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await other.ConnectAsync(server.EndPoint, Token);
        await other.SendAsync(RawHttp.Get(StreamServer.Path), Token);
        var answer = await RawHttp.ReceiveUntilAsync(other, "event: connected\ndata: ", "}\n\n");
        Assert.StartsWith("HTTP/1.1 200 OK", answer, StringComparison.Ordinal);
        Assert.Equal(2, server.Broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task A_stream_refused_at_the_subscriber_limit_or_ended_in_any_way_is_released()
    {
        await using var server = await StreamServer.StartAsync(events: o => o.MaxSubscribers = 1, stream: o => o.MaxStreamsPerAddress = 5);
        var counts = server.App.Services.GetRequiredService<GraphEventStreamHandler>().PerAddress!;
        var held = await SseClient.OpenAsync(server.Client, server.StreamUri());
        await held.ReadAsync();

        // 503s at the subscriber limit: each was counted while it was answered, none stays counted.
        for (var i = 0; i < 10; i++)
        {
            using var refused = await server.Client.GetAsync(server.StreamUri(), Token);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        Assert.Equal(1, counts.CountOf(IPAddress.Loopback));
        await held.DisposeAsync();
        await Eventually.HoldsAsync(() => counts.AddressCount == 0, "the address's entry left with its last stream");
    }

    [Fact]
    public void IPv4_mapped_addresses_count_as_IPv4_and_IPv6_counts_by_64_prefix()
    {
        var counts = new StreamsPerAddress(2);
        Assert.True(counts.TryAcquire(IPAddress.Parse("192.0.2.1"), out var a));
        Assert.True(counts.TryAcquire(IPAddress.Parse("::ffff:192.0.2.1"), out _));
        Assert.False(counts.TryAcquire(IPAddress.Parse("192.0.2.1"), out var none));
        Assert.Null(none);
        Assert.True(counts.TryAcquire(IPAddress.Parse("192.0.2.2"), out _));

        // One /64: one client, whichever addresses of it (privacy addresses, a scope id) it uses.
        Assert.True(counts.TryAcquire(IPAddress.Parse("2001:db8:1:2::1"), out _));
        Assert.True(counts.TryAcquire(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff"), out _));
        Assert.False(counts.TryAcquire(IPAddress.Parse("2001:db8:1:2:aaaa::1%3"), out _));
        Assert.True(counts.TryAcquire(IPAddress.Parse("2001:db8:1:3::1"), out _));

        // No address (a test server, a Unix socket): not counted, and its release does nothing.
        Assert.True(counts.TryAcquire(null, out var unknown));
        Assert.Null(unknown);
        counts.Release(unknown);

        counts.Release(a);
        Assert.Equal(1, counts.CountOf(IPAddress.Parse("192.0.2.1")));
        Assert.Equal(4, counts.AddressCount);
    }

    [Fact]
    public async Task Racing_acquires_and_releases_never_exceed_the_limit_and_leave_no_entry()
    {
        const int Max = 3;
        const int Threads = 8;
        const int Rounds = 20_000;
        var counts = new StreamsPerAddress(Max);
        var address = IPAddress.Parse("198.51.100.7");
        var held = 0;
        var peak = 0;
        var admitted = 0L;

        // Every thread takes and gives back slots of the same address as fast as it can: the
        // entry is created, moved and removed under contention thousands of times.
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(_ => Task.Run(
            () =>
            {
                for (var i = 0; i < Rounds; i++)
                {
                    if (!counts.TryAcquire(address, out var key))
                    {
                        continue;
                    }

                    var now = Interlocked.Increment(ref held);
                    InterlockedMax(ref peak, now);
                    Interlocked.Increment(ref admitted);
                    Interlocked.Decrement(ref held);
                    counts.Release(key);
                }
            },
            Token)));

        Assert.InRange(peak, 1, Max);
        Assert.True(admitted > Rounds, $"Only {admitted} acquires succeeded.");
        Assert.Equal(0, counts.CountOf(address));
        Assert.Equal(0, counts.AddressCount);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
