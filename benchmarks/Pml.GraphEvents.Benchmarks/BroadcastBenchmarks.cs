using BenchmarkDotNet.Attributes;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The broadcaster in process. <c>TryPublish</c> is what a publisher pays (it must not grow with
/// N); <c>PublishAndAllRead</c> is one event end to end, until the last of N subscribers has read
/// it, and its allocations are everything the process allocates for that event (pump and
/// readers included), which must not grow with N either.
/// </summary>
[MemoryDiagnoser]
public class BroadcastBenchmarks
{
    private const int Batch = 1_000;
    private static readonly EdgeCreatedEvent Event = new("git:status", "git:commit", 0.5, DateTimeOffset.UnixEpoch);

    private IGraphEventBroadcaster _broadcaster = null!;
    private FanOut _fanOut = null!;

    [Params(1, 100, 1_000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            MaxSubscribers = Subscribers,
            IngressCapacity = 1_000_000,
            SubscriberBufferCapacity = 100_000,
        });
        _fanOut = new FanOut(_broadcaster, Subscribers);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _fanOut.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _broadcaster.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>A batch of publishes, then (outside the measured part) a wait for delivery.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void TryPublish()
    {
        _fanOut.Expect(Batch);
        for (var i = 0; i < Batch; i++)
        {
            _broadcaster.TryPublish(Event);
        }
    }

    [IterationCleanup(Target = nameof(TryPublish))]
    public void DrainAfterPublish() => _fanOut.WaitAll();

    [Benchmark]
    public void PublishAndAllRead()
    {
        _fanOut.Expect(1);
        _broadcaster.TryPublish(Event);
        _fanOut.WaitAll();
    }
}
