using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Redis;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// Cross-host latency over the Redis backplane: two broadcasters (two "hosts" in one process, each
/// with its own Redis connections) share a stream on a local redis-server of the probe's own; events
/// are published on A at a fixed rate and timed until a subscriber's reader on B has them.
/// </summary>
internal static class ScaleOutProbe
{
    public static async Task RunAsync(bool quick)
    {
        var events = quick ? 500 : 5_000;
        const int rate = 1_000;
        Console.WriteLine("### Cross-host publish→read latency over the Redis backplane");
        Console.WriteLine();
        Process? redis;
        var port = FreePort();
        try
        {
            var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
            {
                start.ArgumentList.Add(argument);
            }

            redis = Process.Start(start)!;
            redis.OutputDataReceived += (_, _) => { };
            redis.BeginOutputReadLine();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("Skipped: redis-server is not installed (./build.sh test installs it).");
            return;
        }

        try
        {
            await WaitForPingAsync(port);
            var result = await MeasureAsync($"127.0.0.1:{port}", events, rate);
            Console.WriteLine($"{Environment.ProcessorCount} logical cores; redis-server on loopback; notification-driven reads.");
            Console.WriteLine();
            Console.WriteLine("| Events | Rate (events/s) | p50 (µs) | p95 (µs) | p99 (µs) | max (µs) |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {result.Count:N0} | {result.Rate:N0} | {result.P50:F0} | {result.P95:F0} | {result.P99:F0} | {result.Max:F0} |"));
        }
        finally
        {
            redis.Kill();
            await redis.WaitForExitAsync();
            redis.Dispose();
        }
    }

    private static async Task<(int Count, double Rate, double P50, double P95, double P99, double Max)> MeasureAsync(string connection, int events, int eventsPerSecond)
    {
        var warmup = Math.Min(500, events / 5);
        var total = warmup + events;
        var key = $"probe:{Guid.NewGuid():N}";
        await using var a = CreateHost(connection, key);
        await using var b = CreateHost(connection, key);
        var hostA = a.GetRequiredService<IGraphEventBroadcaster>();
        var hostB = b.GetRequiredService<IGraphEventBroadcaster>();
        await a.GetRequiredService<RedisBackplane>().Started.WaitAsync(TimeSpan.FromSeconds(30));
        await b.GetRequiredService<RedisBackplane>().Started.WaitAsync(TimeSpan.FromSeconds(30));

        var publishedAt = new long[total + 1];
        var samples = new long[events];
        var count = 0;
        using var subscription = hostB.Subscribe();
        var reader = Task.Run(async () =>
        {
            var received = 0;
            await foreach (var frame in subscription.ReadAllAsync())
            {
                var now = Stopwatch.GetTimestamp();
                if (frame.Event is not EdgeCreatedEvent edge)
                {
                    continue;
                }

                var i = int.Parse(edge.FromToolId, CultureInfo.InvariantCulture);
                if (i > warmup)
                {
                    samples[count++] = now - publishedAt[i];
                }

                if (++received == total)
                {
                    return;
                }
            }
        });

        var pacer = new Pacer(eventsPerSecond);
        for (var i = 1; i <= total; i++)
        {
            publishedAt[i] = pacer.WaitFor(i);
            hostA.TryPublish(new EdgeCreatedEvent(i.ToString(CultureInfo.InvariantCulture), "b", 0.5, DateTimeOffset.UnixEpoch));
        }

        var elapsed = Stopwatch.GetElapsedTime(pacer.Start);
        await reader.WaitAsync(TimeSpan.FromSeconds(60));
        Array.Sort(samples, 0, count);
        double Micros(double percentile) => samples[Math.Min(count - 1, (int)(percentile * count))] * 1_000_000.0 / Stopwatch.Frequency;
        return (count, total / elapsed.TotalSeconds, Micros(0.50), Micros(0.95), Micros(0.99), Micros(1.0));
    }

    private static ServiceProvider CreateHost(string connection, string key)
    {
        var services = new ServiceCollection();
        services.AddGraphEvents(o => o.SubscriberBufferCapacity = 100_000).AddRedisBackplane(o =>
        {
            o.ConnectionString = connection;
            o.StreamKey = key;
        });
        return services.BuildServiceProvider();
    }

    private static async Task WaitForPingAsync(int port)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                if (await stream.ReadAsync(buffer) > 0)
                {
                    return;
                }
            }
            catch (SocketException) when (DateTime.UtcNow < until)
            {
            }

            await Task.Delay(10);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
