using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.AspNetCore;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// Over loopback: a real Kestrel on 127.0.0.1 serving our endpoint, the story's design and
/// TypedResults.ServerSentEvents side by side, read by HttpClient streams in this process.
/// </summary>
internal static class HttpProbe
{
    private const string Ours = "Pml.GraphEvents";
    private const string Story = "Story design";
    private const string Typed = "TypedResults.ServerSentEvents";

    public static async Task RunAsync(bool quick)
    {
        await using var server = await LoopbackServer.StartAsync();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

        Console.WriteLine("### SSE over loopback: publish→client-read latency (µs)");
        Console.WriteLine();
        Console.WriteLine("| Server | Clients | Events | Target rate | p50 | p95 | p99 | max |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        (string Server, int Clients, int Events, int Rate)[] latencyRuns = quick
            ? [(Ours, 100, 300, 1_000)]
            : [(Ours, 100, 3_000, 1_000), (Story, 100, 3_000, 1_000), (Typed, 100, 3_000, 1_000), (Ours, 1_000, 1_000, 1_000), (Typed, 1_000, 1_000, 1_000)];
        foreach (var (name, clients, events, rate) in latencyRuns)
        {
            var summary = await LatencyAsync(server, client, name, clients, events, rate);
            Console.WriteLine(Probes.Invariant($"| {name} | {clients:N0} | {events:N0} | {rate:N0}/s | {summary.P50:F0} | {summary.P95:F0} | {summary.P99:F0} | {summary.Max:F0} |"));
        }

        Console.WriteLine();
        Console.WriteLine("### SSE over loopback: a burst of 1,000 events, as fast as the publisher goes");
        Console.WriteLine();
        Console.WriteLine("| Server | Clients | Frames delivered | Time (ms) | Frames/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        (string Server, int Clients)[] burstRuns = quick ? [(Ours, 100)] : [(Ours, 100), (Story, 100), (Typed, 100), (Ours, 1_000), (Typed, 1_000)];
        foreach (var (name, clients) in burstRuns)
        {
            var (frames, elapsed) = await BurstAsync(server, client, name, clients, 1_000);
            Console.WriteLine(Probes.Invariant($"| {name} | {clients:N0} | {frames:N0} | {elapsed.TotalMilliseconds:F0} | {frames / elapsed.TotalSeconds:N0} |"));
        }

        Console.WriteLine();
        if (!quick)
        {
            Console.WriteLine("### SSE over loopback: one stalled client among 100 (1,000 events/s, 2 KB events, 6 s)");
            Console.WriteLine();
            Console.WriteLine("Steady state is the last 3 s of the run, once the stalled client's socket buffers are full.");
            Console.WriteLine();
            Console.WriteLine("| Server | Events published | Delivered to the 99 healthy clients | Deliveries/s, whole run | Deliveries/s, steady state | Every healthy client got every published event |");
            Console.WriteLine("|---|---:|---:|---:|---:|---|");
            foreach (var name in new[] { Ours, Story })
            {
                var result = await StalledAsync(server, client, name);
                Console.WriteLine(Probes.Invariant($"| {name} | {result.Published:N0} | {result.Delivered:N0} | {result.Delivered / result.Seconds:N0} | {result.SteadyPerSecond:N0} | {(result.Complete ? "yes" : "no")} |"));
            }

            Console.WriteLine();
            await IdleConnectionMemoryAsync(server, 1_000);
        }
    }

    private static async Task<LatencySummary> LatencyAsync(LoopbackServer server, HttpClient client, string name, int clients, int events, int rate)
    {
        var warmup = Math.Max(10, events / 10);
        var total = warmup + events;
        var publishedAt = new long[total + 2];
        var samples = new Percentiles((long)clients * events);
        await using var readers = await server.ConnectAsync(client, name, clients, (sequence, at) =>
        {
            if (sequence > warmup && sequence <= total)
            {
                samples.Add(at - Volatile.Read(ref publishedAt[sequence]));
            }
        });

        var pacer = new Pacer(rate);
        for (var i = 1; i <= total; i++)
        {
            Volatile.Write(ref publishedAt[i], pacer.WaitFor(i));
            await server.PublishAsync(name, SmallEvent, CancellationToken.None);
        }

        var elapsed = Stopwatch.GetElapsedTime(pacer.Start);
        await readers.WaitForAsync((long)clients * total, TimeSpan.FromMinutes(2));
        return samples.Summarize(total / elapsed.TotalSeconds);
    }

    private static async Task<(long Frames, TimeSpan Elapsed)> BurstAsync(LoopbackServer server, HttpClient client, string name, int clients, int events)
    {
        await using var readers = await server.ConnectAsync(client, name, clients, static (_, _) => { });
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < events; i++)
        {
            await server.PublishAsync(name, SmallEvent, CancellationToken.None);
        }

        await readers.WaitForAsync((long)clients * events, TimeSpan.FromMinutes(2));
        return ((long)clients * events, Stopwatch.GetElapsedTime(start));
    }

    private static async Task<(long Published, long Delivered, double Seconds, double SteadyPerSecond, bool Complete)> StalledAsync(LoopbackServer server, HttpClient client, string name)
    {
        var path = server.PathOf(name);
        using var stalled = new TcpClient();
        await stalled.ConnectAsync(server.Address.Host, server.Address.Port);
        stalled.ReceiveBufferSize = 4 * 1024;
        await stalled.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"));
        await server.WaitForClientsAsync(name, 1);

        await using var readers = await server.ConnectAsync(client, name, 99, static (_, _) => { }, alreadyConnected: 1);
        var bigEvent = new EdgeCreatedEvent(new string('a', 1_000), new string('b', 1_000), 0.5, DateTimeOffset.UnixEpoch);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        using var steadyFrom = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var deliveredAtSteady = -1L;
        long steadyStart = 0;
        using var steadyMark = steadyFrom.Token.Register(() =>
        {
            deliveredAtSteady = readers.Delivered;
            steadyStart = Stopwatch.GetTimestamp();
        });
        var pacer = new Pacer(1_000);
        long published = 0;
        while (!deadline.IsCancellationRequested)
        {
            pacer.WaitFor(published + 1);
            try
            {
                await server.PublishAsync(name, bigEvent, deadline.Token);
                published++;
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // The steady-state window ends with publishing: the story's publisher may be stuck in its
        // broadcast, but its healthy clients are only waiting on it, not on the network.
        var steadyPerSecond = (readers.Delivered - deliveredAtSteady) / Stopwatch.GetElapsedTime(steadyStart).TotalSeconds;

        // Let what was published arrive, then count.
        var complete = await readers.TryWaitForAsync(99 * published, TimeSpan.FromSeconds(5));
        var seconds = Stopwatch.GetElapsedTime(pacer.Start).TotalSeconds;
        return (published, readers.Delivered, seconds, steadyPerSecond, complete);
    }

    /// <summary>
    /// Managed memory the server holds per idle SSE connection: raw-socket clients (whose own
    /// cost is measured alone against a plain TCP listener and subtracted) connect and wait.
    /// </summary>
    private static async Task IdleConnectionMemoryAsync(LoopbackServer server, int count)
    {
        var clientOnly = await MeasureSocketsAsync(count, null);
        var withServer = await MeasureSocketsAsync(count, server);
        Console.WriteLine("### Server memory per idle SSE connection");
        Console.WriteLine();
        Console.WriteLine("| Connections | Managed bytes per connection (server side) |");
        Console.WriteLine("|---:|---:|");
        Console.WriteLine(Probes.Invariant($"| {count:N0} | {(withServer - clientOnly) / count:N0} |"));
        Console.WriteLine();
    }

    private static async Task<long> MeasureSocketsAsync(int count, LoopbackServer? server)
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        var accepted = new List<Socket>();
        var sockets = new List<TcpClient>();
        var endpoint = server?.Address ?? new Uri("http://127.0.0.1:0");
        if (server is null)
        {
            listener.Start(count);
            endpoint = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}");
        }

        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < count; i++)
        {
            var socket = new TcpClient();
            await socket.ConnectAsync(endpoint.Host, endpoint.Port);
            if (server is null)
            {
                accepted.Add(await listener.AcceptSocketAsync());
            }
            else
            {
                await socket.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"));
            }

            sockets.Add(socket);
        }

        if (server is not null)
        {
            await server.WaitForClientsAsync(Ours, count);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        sockets.ForEach(s => s.Dispose());
        accepted.ForEach(s => s.Dispose());
        if (server is not null)
        {
            await server.WaitForClientsAsync(Ours, 0);
        }

        return after - before;
    }

    private static readonly EdgeCreatedEvent SmallEvent = new("filesystem:read_file", "git:commit", 0.5, DateTimeOffset.UnixEpoch);

    /// <summary>The Kestrel app with the three endpoints.</summary>
    private sealed class LoopbackServer : IAsyncDisposable
    {
        private readonly Microsoft.AspNetCore.Builder.WebApplication _app;
        private readonly IGraphEventBroadcaster _broadcaster;
        private readonly StoryHttpEventsStream _story;
        private readonly TypedResultsEventsStream _typed;

        private LoopbackServer(Microsoft.AspNetCore.Builder.WebApplication app, Uri address)
        {
            _app = app;
            Address = address;
            _broadcaster = app.Services.GetRequiredService<IGraphEventBroadcaster>();
            _story = app.Services.GetRequiredService<StoryHttpEventsStream>();
            _typed = app.Services.GetRequiredService<TypedResultsEventsStream>();
        }

        public Uri Address { get; }

        public static async Task<LoopbackServer> StartAsync()
        {
            var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Services.AddGraphEvents(o =>
            {
                o.MaxSubscribers = 10_000;
                o.IngressCapacity = 100_000;
            }).AddGraphEventStream();
            builder.Services.AddSingleton<StoryHttpEventsStream>();
            builder.Services.AddSingleton<TypedResultsEventsStream>();
            builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
            var app = builder.Build();
            app.MapGraphEventStream("/events/stream");
            app.MapGet("/story/stream", (Microsoft.AspNetCore.Http.HttpContext context, StoryHttpEventsStream story) => story.HandleAsync(context));
            app.MapGet("/typed/stream", (CancellationToken aborted, TypedResultsEventsStream typed) => typed.Handle(aborted));
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new LoopbackServer(app, new Uri(address));
        }

        public string PathOf(string name) => name switch
        {
            Ours => "/events/stream",
            Story => "/story/stream",
            _ => "/typed/stream",
        };

        public int ClientCount(string name) => name switch
        {
            Ours => _broadcaster.SubscriberCount,
            Story => _story.ClientCount,
            _ => _typed.ClientCount,
        };

        public ValueTask PublishAsync(string name, EdgeCreatedEvent graphEvent, CancellationToken cancellationToken)
        {
            switch (name)
            {
                case Ours:
                    return _broadcaster.PublishAsync(graphEvent, cancellationToken);
                case Story:
                    return new ValueTask(_story.BroadcastAsync(graphEvent, cancellationToken));
                default:
                    _typed.Broadcast(graphEvent);
                    return ValueTask.CompletedTask;
            }
        }

        public async Task WaitForClientsAsync(string name, int count)
        {
            var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 60);
            while (ClientCount(name) != count)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new TimeoutException($"{name}: {ClientCount(name)} clients connected, expected {count}.");
                }

                await Task.Delay(5);
            }
        }

        /// <summary>Opens <paramref name="count"/> streams and waits until the server has them all.</summary>
        public async Task<Readers> ConnectAsync(HttpClient client, string name, int count, Action<long, long> received, int alreadyConnected = 0)
        {
            // The previous run's streams close asynchronously after their readers are cancelled;
            // counting them as this run's clients would start publishing too early.
            await WaitForClientsAsync(name, alreadyConnected);
            var readers = new Readers(received);
            var url = new Uri(Address, PathOf(name)).ToString();
            for (var i = 0; i < count; i++)
            {
                readers.Start(client, url);
            }

            await WaitForClientsAsync(name, alreadyConnected + count);
            return readers;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>A set of counting readers and the deliveries they have seen.</summary>
    private sealed class Readers(Action<long, long> received) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _tasks = [];
        private long _delivered;

        public long Delivered => Interlocked.Read(ref _delivered);

        public void Start(HttpClient client, string url) =>
            _tasks.Add(Task.Run(() => SseCountingReader.ReadAsync(client, url, (sequence, at) =>
            {
                received(sequence, at);
                Interlocked.Increment(ref _delivered);
            }, _stop.Token)));

        public async Task WaitForAsync(long deliveries, TimeSpan timeout)
        {
            if (!await TryWaitForAsync(deliveries, timeout))
            {
                throw new TimeoutException($"{Delivered:N0} of {deliveries:N0} deliveries arrived.");
            }
        }

        public async Task<bool> TryWaitForAsync(long deliveries, TimeSpan timeout)
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            while (Delivered < deliveries)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    return false;
                }

                await Task.Delay(2);
            }

            return true;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_tasks);
            _stop.Dispose();
        }
    }
}
