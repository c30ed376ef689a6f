using BenchmarkDotNet.Running;
using Pml.GraphEvents.Benchmarks;

// `-- probe redis [--quick]` runs the cross-host probe over a local redis-server of its own.
// `-- probe e2e [--quick] [--dll PATH] [--perf FILE]` runs the server in a child process against real HTTP clients.
// `-- probe ...` runs the percentile and memory probes (per-event timestamps, not a loop's mean);
// anything else goes to BenchmarkDotNet, e.g. `-- --filter '*Publish*'` or `-- --filter '*' --job dry`.
if (args.Length > 1 && args[0] == "probe" && args[1] == "redis")
{
    await ScaleOutProbe.RunAsync(args.Contains("--quick"));
    return;
}

if (args.Length > 1 && args[0] == "probe" && args[1] == "e2e")
{
    // The probe is the server's clients on the same two cores: its thread pool's workers must not
    // spin (sched_yield) for work after each POST's continuation, which took a third of a core at
    // 225 POSTs/s. Read when the pool starts its first worker, so it is set before anything runs;
    // it changes this process only, never the server's.
    AppContext.SetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", 0);
    Environment.ExitCode = await EndToEndProbe.RunAsync(args[2..]);
    return;
}

if (args.Length > 0 && args[0] == "probe")
{
    await Probes.RunAsync(args[1..]);
    return;
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Probes).Assembly).Run(args);

// BenchmarkDotNet reports a benchmark that failed to build or run and still exits 0; CI's smoke
// pass must fail instead of passing on benchmarks that never ran.
var failed = summaries
    .Where(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.BuildResult.IsBuildSuccess || !r.Success))
    .Select(s => s.Title)
    .ToList();
if (failed.Count > 0)
{
    Console.Error.WriteLine($"Benchmarks that did not build or run: {string.Join(", ", failed)}");
    Environment.ExitCode = 1;
}
