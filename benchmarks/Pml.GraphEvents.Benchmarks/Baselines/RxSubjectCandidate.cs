using System.Reactive.Subjects;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// System.Reactive's <see cref="Subject{T}"/> with synchronous subscribers: delivery is a direct
/// call on the publisher's thread, the floor for inline delivery. It has no buffering, no
/// isolation (a slow subscriber blocks the publisher) and no bytes to write.
/// </summary>
internal sealed class RxSubjectCandidate : IFanOutCandidate
{
    private readonly Subject<EdgeCreatedEvent> _subject = new();
    private readonly List<IDisposable> _subscriptions = [];
    private long _current;

    public RxSubjectCandidate(int subscribers, Action<long> delivered)
    {
        for (var i = 0; i < subscribers; i++)
        {
            _subscriptions.Add(_subject.Subscribe(_ => delivered(_current)));
        }
    }

    public string Name => FanOutCandidates.Rx;

    public ValueTask PublishAsync(EdgeCreatedEvent graphEvent, long sequence)
    {
        _current = sequence;
        _subject.OnNext(graphEvent);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _subscriptions.ForEach(s => s.Dispose());
        _subject.Dispose();
        return ValueTask.CompletedTask;
    }
}
