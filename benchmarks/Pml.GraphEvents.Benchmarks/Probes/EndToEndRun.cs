using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// One scenario against a fresh server (and database), by server-cpu.py's method: warm up, connect
/// the readers, warm up again in rounds until tiered compilation is done, wait until the server is
/// idle, read its CPU time, run, wait until every reader has every frame and the server is idle
/// again, read its CPU time, check every reader.
/// </summary>
internal static class EndToEndRun
{
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan DeliveryLimit = TimeSpan.FromSeconds(120);

    public static async Task<EndToEndResult> RunAsync(EndToEndScenario scenario, string dll, int seed, string? perfFile)
    {
        var clock = Stopwatch.StartNew();
        Console.Error.WriteLine($"e2e {scenario.Name}: starting a server ...");
        await using var server = await EndToEndServer.StartAsync(dll, scenario.Clients, profiled: perfFile is not null);
        using var ingest = new EndToEndIngestClient(server.Address);
        var tools = await ingest.GetToolsAsync();
        if (tools.Count < 5)
        {
            throw new EndToEndException($"The server's graph has {tools.Count} tools; the sample catalog has about fifty.");
        }

        Console.Error.WriteLine($"e2e {scenario.Name}: server up after {clock.Elapsed.TotalSeconds:F1} s, warming up ...");
        var workload = new EndToEndWorkload(tools, seed);
        var batch = scenario.Batch;
        for (var i = 0; i < scenario.WarmUp / batch; i++)
        {
            await ingest.PostAsync(workload.NextWarmUpBody(batch), batch);
        }

        using var readers = scenario.Clients > 0 ? await EndToEndReaders.ConnectAsync(server.Address, scenario.Clients) : null;

        // Tiered compilation promotes hot methods to tier 1 only once tier-0 compiling has been
        // quiet for a while (100 ms), so a warm-up posted back to back can end with little promoted
        // and the promotion would land in the measured run. So: short rounds, each after a pause,
        // with the readers connected so that the delivery path is compiled too.
        double eventsPerPost = 0;
        for (var round = 0; round < scenario.JitRounds; round++)
        {
            await EndToEndProcessTimes.SettleAsync(server.Pid, SettleLimit);
            var framesBefore = readers?.All[0].TotalEvents ?? 0;
            var posts = Math.Max(1, scenario.WarmUp / 4 / batch);
            for (var i = 0; i < posts; i++)
            {
                await ingest.PostAsync(workload.NextWarmUpBody(batch), batch);
            }

            var asOf = await ingest.GetAsOfOffsetAsync(); // its code too, as the run reads it after
            if (readers is not null)
            {
                await readers.WaitForOffsetAsync(asOf, DeliveryLimit);
                eventsPerPost = (readers.All[0].TotalEvents - framesBefore) / (double)posts;
            }
        }

        // A paced run's rate: the POSTs per second that make the server emit the target events per
        // second, from the events per POST a reader received in the last warm-up round.
        var postsPerSecond = 0;
        int measuredPosts;
        if (scenario.Paced)
        {
            if (eventsPerPost <= 0)
            {
                throw new EndToEndException($"{scenario.Name}: a paced run needs readers and a warm-up round to count events per POST.");
            }

            postsPerSecond = Math.Max(1, (int)Math.Round(scenario.EventsPerSecond / eventsPerPost));
            measuredPosts = Math.Max(1, (int)(postsPerSecond * scenario.Seconds));
        }
        else
        {
            measuredPosts = scenario.Executions / batch;
        }

        var bodies = workload.MeasuredBodies(measuredPosts, batch);
        long executions = (long)measuredPosts * batch;
        var delivery = new EndToEndDeliveryLatency(measuredPosts, batch, Math.Max(1, scenario.Clients));
        var roundTrips = new Percentiles(measuredPosts);

        await Task.Delay(TimeSpan.FromSeconds(1)); // the readers' connection work settles before the first reading
        await EndToEndProcessTimes.SettleAsync(server.Pid, SettleLimit);
        var before = await ingest.GetAsOfOffsetAsync();
        if (readers is not null)
        {
            await readers.WaitForOffsetAsync(before, DeliveryLimit);
            readers.Arm(delivery);
        }

        Console.Error.WriteLine($"e2e {scenario.Name}: warm after {clock.Elapsed.TotalSeconds:F1} s, measuring {executions:N0} executions in {measuredPosts:N0} POSTs ...");
        var perf = perfFile is null ? null : await EndToEndPerfRecording.StartAsync(server.Pid, $"{perfFile}.{scenario.Name}");
        if (perf is not null)
        {
            await EndToEndProcessTimes.SettleAsync(server.Pid, SettleLimit);
        }

        var jitBefore = EndToEndProcessTimes.NamedThreadNanoseconds(server.Pid, EndToEndProcessTimes.JitThreadName);
        var probe = Process.GetCurrentProcess();
        var probeCpuBefore = probe.TotalProcessorTime;
        var meter = new EndToEndCpuMeter(server.Pid);
        meter.Start();

        var start = scenario.Paced
            ? await PostPacedAsync(ingest, bodies, batch, postsPerSecond, delivery, roundTrips)
            : await PostBackToBackAsync(ingest, bodies, batch, delivery, roundTrips);
        var end = Stopwatch.GetTimestamp();

        // Every reader has the last execution's frames before the server is waited on to go idle,
        // and GET /graph (which serializes the whole graph) is only read after the CPU reading.
        if (readers is not null)
        {
            await readers.WaitForExecutionsAsync(executions, DeliveryLimit);
        }

        await EndToEndProcessTimes.SettleAsync(server.Pid, SettleLimit);
        var (cpu, precise) = meter.Stop();
        probe.Refresh();
        var probeCpu = (probe.TotalProcessorTime - probeCpuBefore).TotalSeconds;
        var jit = (EndToEndProcessTimes.NamedThreadNanoseconds(server.Pid, EndToEndProcessTimes.JitThreadName) - jitBefore) / 1e6;
        if (perf is not null)
        {
            await perf.StopAsync();
            Console.Error.WriteLine($"e2e {scenario.Name}: perf samples in {perf.File}");
        }

        server.EnsureRunning();
        var after = await ingest.GetAsOfOffsetAsync();
        long frames = 0;
        double writesPerClient = 0;
        var latencies = new List<(string, LatencySummary)>();
        if (readers is not null)
        {
            await readers.WaitForOffsetAsync(after, DeliveryLimit);
            readers.Check(before, after, executions);
            frames = readers.All.Sum(r => r.Events);
            writesPerClient = readers.MedianChunks;
            end = readers.All.Max(r => r.LastAt);
            latencies.Add(("POST sent → workflow_executed read, at each reader", delivery.Samples.Summarize(0)));
        }

        latencies.Add(("POST round trip", roundTrips.Summarize(0)));
        var wall = (end - start) / (double)Stopwatch.Frequency;
        Console.Error.WriteLine($"e2e {scenario.Name}: done after {clock.Elapsed.TotalSeconds:F1} s");
        return new EndToEndResult(scenario, executions, measuredPosts, after - before, frames, writesPerClient, wall, cpu, precise, jit, probeCpu, postsPerSecond, eventsPerPost, latencies);
    }

    // As fast as the server answers, one POST in flight (server-cpu.py's loop); returns when the first was sent.
    private static async Task<long> PostBackToBackAsync(EndToEndIngestClient ingest, byte[][] bodies, int batch, EndToEndDeliveryLatency delivery, Percentiles roundTrips)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < bodies.Length; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            delivery.Sent(i, sent);
            await ingest.PostAsync(bodies[i], batch);
            roundTrips.Add(Stopwatch.GetTimestamp() - sent);
        }

        return start;
    }

    // Open loop: each POST leaves on its schedule whether or not the ones before it were answered,
    // so a slow server shows as latency, not as a lower rate. The schedule runs on a thread of its
    // own: it sleeps, and a sleeping thread-pool thread would delay the POSTs' continuations.
    private static async Task<long> PostPacedAsync(EndToEndIngestClient ingest, byte[][] bodies, int batch, int postsPerSecond, EndToEndDeliveryLatency delivery, Percentiles roundTrips)
    {
        var posts = new ConcurrentBag<Task>();
        var start = 0L;
        await Task.Factory.StartNew(
            () =>
            {
                var schedule = new EndToEndSchedule(postsPerSecond);
                for (var i = 0; i < bodies.Length; i++)
                {
                    var sent = schedule.WaitFor(i + 1);
                    if (i == 0)
                    {
                        start = sent;
                    }

                    delivery.Sent(i, sent);
                    posts.Add(PostTimedAsync(ingest, bodies[i], batch, sent, roundTrips));
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await Task.WhenAll(posts);
        return start;
    }

    private static async Task PostTimedAsync(EndToEndIngestClient ingest, byte[] body, int batch, long sent, Percentiles roundTrips)
    {
        await ingest.PostAsync(body, batch);
        roundTrips.Add(Stopwatch.GetTimestamp() - sent);
    }
}
