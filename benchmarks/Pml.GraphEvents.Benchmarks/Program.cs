using BenchmarkDotNet.Running;
using Pml.GraphEvents.Benchmarks;

// `-- probe ...` runs the percentile and memory probes (per-event timestamps, not a loop's mean);
// anything else goes to BenchmarkDotNet, e.g. `-- --filter '*Publish*'` or `-- --filter '*' --job dry`.
if (args.Length > 0 && args[0] == "probe")
{
    await Probes.RunAsync(args[1..]);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Probes).Assembly).Run(args);
