using BenchmarkDotNet.Attributes;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// One event to N subscribers until the last has it, for our broadcaster and the two baselines in
/// the same run: the story's design (per-client serialization, publisher awaits each client) and
/// an Rx Subject with inline subscribers (the floor: no buffers, no isolation, no bytes).
/// Allocated bytes are per event, everything the process allocated for it.
/// </summary>
[MemoryDiagnoser]
public class FanOutComparisonBenchmarks
{
    private static readonly EdgeCreatedEvent Event = new("filesystem:read_file", "git:commit", 0.5, DateTimeOffset.UnixEpoch);
    private readonly ManualResetEventSlim _allRead = new(false);
    private IFanOutCandidate _candidate = null!;
    private long _remaining;
    private long _sequence;

    [Params(1, 10, 100, 1_000)]
    public int Subscribers { get; set; }

    [ParamsAllValues]
    public Candidate Design { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var name = Design switch
        {
            Candidate.Ours => FanOutCandidates.Ours,
            Candidate.Story => FanOutCandidates.Story,
            _ => FanOutCandidates.Rx,
        };
        _candidate = FanOutCandidates.Create(name, Subscribers, _ =>
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _allRead.Set();
            }
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _candidate.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _allRead.Dispose();
    }

    [Benchmark]
    public void PublishToAll()
    {
        _allRead.Reset();
        Volatile.Write(ref _remaining, Subscribers);
        var publishing = _candidate.PublishAsync(Event, ++_sequence);
        if (!publishing.IsCompletedSuccessfully)
        {
            publishing.AsTask().GetAwaiter().GetResult();
        }

        _allRead.Wait();
    }

    /// <summary>The designs compared.</summary>
    public enum Candidate
    {
        Ours,
        Story,
        Rx,
    }
}
