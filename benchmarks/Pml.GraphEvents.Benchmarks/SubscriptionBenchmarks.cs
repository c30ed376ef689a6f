using BenchmarkDotNet.Attributes;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>What one subscribe costs, in time and in bytes (the connected frame included).</summary>
[MemoryDiagnoser]
public class SubscriptionBenchmarks
{
    private IGraphEventBroadcaster _broadcaster = null!;

    [GlobalSetup]
    public void Setup() => _broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { MaxSubscribers = 100_000 });

    [GlobalCleanup]
    public void Cleanup() => _broadcaster.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public void SubscribeReadConnectedDispose()
    {
        var subscription = _broadcaster.Subscribe();
        subscription.TryRead(out _);
        subscription.Dispose();
    }
}
