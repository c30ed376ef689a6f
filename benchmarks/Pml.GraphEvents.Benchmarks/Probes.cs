using System.Diagnostics;
using System.Globalization;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// Measurements BenchmarkDotNet's per-operation means cannot give: publish→read latency
/// percentiles from a timestamp per event per subscriber, and retained memory per idle subscription.
/// Prints Markdown tables for docs/benchmarks.md.
/// </summary>
internal static class Probes
{
    public static async Task RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        int[] counts = quick ? [1, 100] : [1, 10, 100, 1_000];
        var events = quick ? 500 : 5_000;
        var rate = 1_000;

        Console.WriteLine($"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformationText()}");
        Console.WriteLine();
        Console.WriteLine($"### Publish→read latency, {events:N0} events at {rate:N0} events/s");
        Console.WriteLine();
        Console.WriteLine("| Subscribers | Deliveries | Rate (events/s) | p50 (µs) | p95 (µs) | p99 (µs) | max (µs) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var n in counts)
        {
            var result = await MeasureLatencyAsync(n, events, rate);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n:N0} | {result.Deliveries:N0} | {result.Rate:N0} | {result.P50:F1} | {result.P95:F1} | {result.P99:F1} | {result.Max:F1} |"));
        }

        Console.WriteLine();
        Console.WriteLine("### Retained memory per idle subscription");
        Console.WriteLine();
        Console.WriteLine($"| Subscriptions | Bytes each |");
        Console.WriteLine("|---:|---:|");
        var idle = MeasureIdleSubscriptionBytes(quick ? 1_000 : 10_000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {idle.Count:N0} | {idle.BytesEach:F0} |"));
    }

    private static string RuntimeInformationText() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";

    /// <summary>
    /// Publishes at a fixed rate (open loop, so queueing shows) and records, for every delivery,
    /// the time from just before TryPublish to the moment the subscriber's reader has the frame.
    /// </summary>
    private static async Task<LatencyResult> MeasureLatencyAsync(int subscribers, int events, int eventsPerSecond)
    {
        var warmup = Math.Min(500, events / 5);
        var total = warmup + events;
        var publishedAt = new long[total + 2];
        var samples = new long[(long)subscribers * events];
        var next = -1L;
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            MaxSubscribers = Math.Max(subscribers, 1),
            SubscriberBufferCapacity = total + 1,
        });

        await using var fanOut = new FanOut(broadcaster, subscribers, frame =>
        {
            var now = Stopwatch.GetTimestamp();
            var id = frame.Id!.Value;
            if (id > warmup)
            {
                samples[Interlocked.Increment(ref next)] = now - publishedAt[id];
            }
        });

        fanOut.Expect(total);
        var interval = Stopwatch.Frequency / eventsPerSecond;
        var start = Stopwatch.GetTimestamp();
        for (var i = 1; i <= total; i++)
        {
            // Sleep, not spin, until the event is due: a spinning publisher would take one of the
            // machine's two cores away from the pump and the readers and inflate every figure.
            var due = start + (i * interval);
            while (Stopwatch.GetTimestamp() < due)
            {
                Thread.Sleep(due - Stopwatch.GetTimestamp() > interval / 2 ? 1 : 0);
            }

            publishedAt[i] = Stopwatch.GetTimestamp();
            broadcaster.TryPublish(new EdgeCreatedEvent("a", "b", 0.5, DateTimeOffset.UnixEpoch));
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        fanOut.WaitAll();
        var count = (int)(next + 1);
        Array.Sort(samples, 0, count);
        double Micros(double percentile) => samples[Math.Min(count - 1, (int)(percentile * count))] * 1_000_000.0 / Stopwatch.Frequency;
        return new LatencyResult(count, total / elapsed.TotalSeconds, Micros(0.50), Micros(0.95), Micros(0.99), Micros(1.0));
    }

    private static (int Count, double BytesEach) MeasureIdleSubscriptionBytes(int count)
    {
        using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = count });
        var keep = new GraphEventSubscription[count];
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < count; i++)
        {
            keep[i] = broadcaster.Subscribe().Subscription!;

            // A subscriber that has read its connected frame and now waits: the steady idle state.
            keep[i].TryRead(out _);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(keep);
        return (count, (after - before) / (double)count);
    }

    private readonly record struct LatencyResult(int Deliveries, double Rate, double P50, double P95, double P99, double Max);
}
