using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// <c>probe e2e [ingest|burst|steady ...] [--quick] [--dll PATH] [--perf FILE] [--seed N]</c>: the whole server end to end
/// (issue 16, item 1). A Release build of the server in a child process, real HTTP clients in
/// this one; per scenario the server's own CPU per learned execution and per delivered frame,
/// wall rates and latency percentiles, as Markdown tables. benchmarks/scripts/server-cpu.py is
/// the reference for the method (and stays, for its side-by-side <c>--compare</c>).
/// </summary>
internal static class EndToEndProbe
{
    private const string Usage = "usage: probe e2e [ingest|burst|steady ...] [--quick] [--dll PATH] [--perf FILE] [--seed N]";

    /// <returns>The exit code: 0, or 1 when a run was not a valid measurement (a lost event, a refused POST, ...).</returns>
    public static async Task<int> RunAsync(string[] args)
    {
        bool quick = false;
        string? dll = null, perf = null;
        var seed = 1;
        var only = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--dll" when i + 1 < args.Length:
                    dll = args[++i];
                    break;
                case "--perf" when i + 1 < args.Length:
                    perf = Path.GetFullPath(args[++i]);
                    break;
                case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], out seed):
                    i++;
                    break;
                case var name when EndToEndScenario.All(quick: false).Any(s => s.Name == name):
                    only.Add(name);
                    break;
                default:
                    Console.Error.WriteLine($"Unknown or incomplete argument {args[i]}. {Usage}");
                    return 2;
            }
        }

        try
        {
            var path = await EndToEndServerBuild.LocateAsync(dll);
            var loadBefore = LoadAverage();
            var results = new List<EndToEndResult>();
            foreach (var scenario in EndToEndScenario.All(quick).Where(s => only.Count == 0 || only.Contains(s.Name)))
            {
                results.Add(await EndToEndRun.RunAsync(scenario, path, seed, perf));
            }

            Print(results, path, quick, loadBefore);
            return 0;
        }
        catch (EndToEndException ex)
        {
            Console.Error.WriteLine($"probe e2e: FAILED: {ex.Message}");
            return 1;
        }
    }

    private static void Print(List<EndToEndResult> results, string dll, bool quick, string loadBefore)
    {
        Console.WriteLine($"Machine: {Environment.ProcessorCount} logical cores ({CpuModel()}), {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}; load average {loadBefore} → {LoadAverage()}");
        Console.WriteLine($"Server: {dll}{(quick ? " (--quick: a short pass, not a measurement)" : string.Empty)}");
        Console.WriteLine();
        Console.WriteLine("### End to end: server CPU and rates");
        Console.WriteLine();
        Console.WriteLine("| Scenario | Clients | Executions (POSTs) | Events | Frames delivered | Writes per client | Wall (s) | Executions/s | Events/s | Frames/s | Server CPU (s) | µs per execution | µs per frame | JIT in run (ms) | Probe CPU (s) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var perFrame = r.CpuMicrosecondsPerFrame is { } f ? Probes.Invariant($"{f:F2}") : "–";
            var frames = r.Frames > 0 ? Probes.Invariant($"{r.Frames:N0}") : "–";
            var writes = r.Frames > 0 ? Probes.Invariant($"{r.WritesPerClient:N0}") : "–";
            var framesPerSecond = r.Frames > 0 ? Probes.Invariant($"{r.Frames / r.WallSeconds:N0}") : "–";
            Console.WriteLine(Probes.Invariant(
                $"| {r.Scenario.Title} | {r.Scenario.Clients} | {r.Executions:N0} ({r.Posts:N0}) | {r.Events:N0} | {frames} | {writes} | {r.WallSeconds:F2} | {r.Executions / r.WallSeconds:N0} | {r.Events / r.WallSeconds:N0} | {framesPerSecond} | {r.ServerCpuSeconds:F3}{(r.PreciseCpu ? string.Empty : "*")} | {r.CpuMicrosecondsPerExecution:F0} | {perFrame} | {r.JitMilliseconds:F0} | {r.ProbeCpuSeconds:F2} |"));
        }

        Console.WriteLine();
        if (results.Any(r => !r.PreciseCpu))
        {
            Console.WriteLine("\\* a server thread ended during the run: the process's 10 ms clock ticks, not per-thread nanoseconds.");
            Console.WriteLine();
        }

        foreach (var r in results.Where(r => r.Scenario.Paced))
        {
            Console.WriteLine(Probes.Invariant(
                $"{r.Scenario.Title}: POSTs of {r.Scenario.Batch} execution(s) at {r.TargetPostsPerSecond:N0}/s, open loop ({r.EventsPerPost:F2} events per POST counted in the warm-up), for {r.Scenario.Seconds:0.#} s."));
            Console.WriteLine();
        }

        Console.WriteLine("### End to end: latency (ms)");
        Console.WriteLine();
        Console.WriteLine("| Scenario | Measure | Samples | p50 | p95 | p99 | max |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            foreach (var (measure, s) in r.Latencies)
            {
                Console.WriteLine(Probes.Invariant($"| {r.Scenario.Title} | {measure} | {s.Deliveries:N0} | {s.P50 / 1000:F2} | {s.P95 / 1000:F2} | {s.P99 / 1000:F2} | {s.Max / 1000:F2} |"));
            }
        }

        Console.WriteLine();
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "?" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
