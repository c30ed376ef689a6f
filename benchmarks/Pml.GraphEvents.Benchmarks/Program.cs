using BenchmarkDotNet.Running;
using Pml.GraphEvents.Benchmarks;

// `-- probe redis [--quick]` runs the cross-host probe over a local redis-server of its own.
// `-- probe ...` runs the percentile and memory probes (per-event timestamps, not a loop's mean);
// anything else goes to BenchmarkDotNet, e.g. `-- --filter '*Publish*'` or `-- --filter '*' --job dry`.
if (args.Length > 1 && args[0] == "probe" && args[1] == "redis")
{
    await ScaleOutProbe.RunAsync(args.Contains("--quick"));
    return;
}

if (args.Length > 0 && args[0] == "probe")
{
    await Probes.RunAsync(args[1..]);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Probes).Assembly).Run(args);
