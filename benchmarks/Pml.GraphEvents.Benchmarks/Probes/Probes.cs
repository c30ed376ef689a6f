using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// Measurements BenchmarkDotNet's per-operation means cannot give: publish→read latency
/// percentiles from a timestamp per delivery, delivery rates, retained memory per idle
/// subscription, and the same over loopback HTTP. Prints Markdown for docs/benchmarks.md and,
/// with <c>--chart PATH</c>, draws latency against subscriber count as an SVG.
/// </summary>
internal static class Probes
{
    public static async Task RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        var only = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal) && !a.EndsWith(".svg", StringComparison.Ordinal));
        var chartIndex = Array.IndexOf(args, "--chart");
        var chartPath = chartIndex >= 0 && chartIndex + 1 < args.Length ? args[chartIndex + 1] : null;

        Console.WriteLine($"Machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}");
        Console.WriteLine();
        if (only is null or "inprocess")
        {
            var rows = await InProcessLatencyAsync(quick);
            if (chartPath is not null)
            {
                LatencyChart.Write(chartPath, rows);
                Console.WriteLine($"Chart written to {chartPath}");
                Console.WriteLine();
            }

            await InProcessBurstAsync(quick);
        }

        if (only is null or "memory")
        {
            await MemoryAsync(quick);
        }

        if (only is null or "http")
        {
            await HttpProbe.RunAsync(quick);
        }
    }

    /// <summary>
    /// Every candidate at each subscriber count, published open loop at a fixed rate (paced by
    /// sleeping, so queueing shows and the publisher does not take a core from the readers).
    /// </summary>
    private static async Task<List<(string Candidate, int Subscribers, LatencySummary Summary)>> InProcessLatencyAsync(bool quick)
    {
        int[] counts = quick ? [1, 100] : [1, 10, 100, 1_000, 10_000];
        var rows = new List<(string, int, LatencySummary)>();

        // Unmeasured, every candidate once, then a pause: otherwise the first row of the table (ours
        // at 1 subscriber) runs while tiered compilation promotes some 750 methods on the background
        // JIT thread, which on two cores costs that row, and only that row, a tail of milliseconds.
        foreach (var candidate in FanOutCandidates.All)
        {
            await MeasureLatencyAsync(candidate, 10, quick ? 300 : 2_000, 1_000);
        }

        await Task.Delay(500);
        Console.WriteLine("### In-process publish→read latency (µs)");
        Console.WriteLine();
        Console.WriteLine("| Candidate | Subscribers | Events | Target rate | Achieved rate | p50 | p95 | p99 | max |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var n in counts)
        {
            // Bounded work per row: fewer and slower events as the fan-out grows.
            var (events, rate) = quick ? (300, 1_000) : n switch
            {
                <= 100 => (3_000, 1_000),
                <= 1_000 => (1_000, 1_000),
                _ => (100, 20),
            };

            foreach (var candidate in FanOutCandidates.All)
            {
                var summary = await MeasureLatencyAsync(candidate, n, events, rate);
                rows.Add((candidate, n, summary));
                Console.WriteLine(Invariant(
                    $"| {candidate} | {n:N0} | {events:N0} | {rate:N0}/s | {summary.EventsPerSecond:N0}/s | {summary.P50:F1} | {summary.P95:F1} | {summary.P99:F1} | {summary.Max:F1} |"));
            }
        }

        Console.WriteLine();
        return rows;
    }

    private static async Task<LatencySummary> MeasureLatencyAsync(string name, int subscribers, int events, int eventsPerSecond)
    {
        var warmup = Math.Max(10, events / 10);
        var total = warmup + events;
        var publishedAt = new long[total + 2];
        var samples = new Percentiles((long)subscribers * events);
        var remaining = (long)subscribers * total;
        using var done = new ManualResetEventSlim(false);
        await using var candidate = FanOutCandidates.Create(name, subscribers, sequence =>
        {
            var now = Stopwatch.GetTimestamp();
            if (sequence > warmup)
            {
                samples.Add(now - Volatile.Read(ref publishedAt[sequence]));
            }

            if (Interlocked.Decrement(ref remaining) == 0)
            {
                done.Set();
            }
        });

        var graphEvent = new EdgeCreatedEvent("filesystem:read_file", "git:commit", 0.5, DateTimeOffset.UnixEpoch);
        var pacer = new Pacer(eventsPerSecond);
        for (var i = 1; i <= total; i++)
        {
            Volatile.Write(ref publishedAt[i], pacer.WaitFor(i));
            await candidate.PublishAsync(graphEvent, i);
        }

        var elapsed = Stopwatch.GetElapsedTime(pacer.Start);
        if (!done.Wait(TimeSpan.FromMinutes(2)))
        {
            throw new TimeoutException($"{name} at {subscribers}: {Interlocked.Read(ref remaining)} deliveries missing.");
        }

        return samples.Summarize(total / elapsed.TotalSeconds);
    }

    /// <summary>A burst as fast as the publisher can go, at 100 subscribers: deliveries per second until the last one.</summary>
    private static async Task InProcessBurstAsync(bool quick)
    {
        const int Subscribers = 100;
        var events = quick ? 1_000 : 10_000;
        Console.WriteLine($"### In-process burst: {events:N0} events to {Subscribers} subscribers");
        Console.WriteLine();
        Console.WriteLine("| Candidate | Deliveries | Time (ms) | Deliveries/s |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var name in FanOutCandidates.All)
        {
            var remaining = (long)Subscribers * events;
            using var done = new ManualResetEventSlim(false);
            await using var candidate = FanOutCandidates.Create(name, Subscribers, _ =>
            {
                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    done.Set();
                }
            });
            var graphEvent = new EdgeCreatedEvent("filesystem:read_file", "git:commit", 0.5, DateTimeOffset.UnixEpoch);
            var start = Stopwatch.GetTimestamp();
            for (var i = 1; i <= events; i++)
            {
                await candidate.PublishAsync(graphEvent, i);
            }

            done.Wait(TimeSpan.FromMinutes(2));
            var elapsed = Stopwatch.GetElapsedTime(start);
            Console.WriteLine(Invariant($"| {name} | {Subscribers * events:N0} | {elapsed.TotalMilliseconds:F1} | {Subscribers * events / elapsed.TotalSeconds:N0} |"));
        }

        Console.WriteLine();
    }

    private static async Task MemoryAsync(bool quick)
    {
        var count = quick ? 1_000 : 10_000;
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = count });
        var keep = new GraphEventSubscription[count];
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < count; i++)
        {
            keep[i] = broadcaster.Subscribe();

            // A subscriber that has read its connected frame and now waits: the steady idle state.
            keep[i].TryRead(out _);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(keep);
        Console.WriteLine("### Retained memory per idle subscription");
        Console.WriteLine();
        Console.WriteLine("| Subscriptions | Bytes each |");
        Console.WriteLine("|---:|---:|");
        Console.WriteLine(Invariant($"| {count:N0} | {(after - before) / (double)count:F0} |"));
        Console.WriteLine();
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
