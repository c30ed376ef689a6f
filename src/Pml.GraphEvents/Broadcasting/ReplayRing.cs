namespace Pml.GraphEvents;

/// <summary>
/// The most recent broadcast frames, for Last-Event-ID replay. Ids are consecutive, so finding
/// the frames after an id is arithmetic, not a search. Not thread-safe: the broadcaster guards it.
/// </summary>
internal sealed class ReplayRing
{
    private readonly GraphEventFrame[] _frames;
    private int _next;
    private int _count;

    public ReplayRing(int capacity) => _frames = new GraphEventFrame[capacity];

    public void Add(GraphEventFrame frame)
    {
        _frames[_next] = frame;
        _next = (_next + 1) % _frames.Length;
        if (_count < _frames.Length)
        {
            _count++;
        }
    }

    /// <summary>
    /// Plans the start of a subscription that already has every event up to <paramref name="lastEventId"/>,
    /// when <paramref name="newestId"/> is the last id issued.
    /// </summary>
    public ReplayPlan PlanResume(long? lastEventId, long newestId, GraphEventKind mask)
    {
        if (lastEventId is not { } last || last == newestId)
        {
            return new ReplayPlan(newestId, [], null, null);
        }

        if (last > newestId || last < 0)
        {
            // An id this stream never issued: typically the server restarted and ids began again.
            return new ReplayPlan(newestId, [], EventsLostReasons.UnknownLastEventId, null);
        }

        var oldestId = _count == 0 ? newestId + 1 : newestId - _count + 1;
        string? reason = null;
        long? lost = null;
        if (last < oldestId - 1)
        {
            reason = EventsLostReasons.ReplayWindowExceeded;
            lost = oldestId - 1 - last;
            last = oldestId - 1;
        }

        var replay = new List<GraphEventFrame>((int)(newestId - last));
        for (var id = last + 1; id <= newestId; id++)
        {
            var frame = _frames[IndexOf(id, newestId)];
            if ((frame.Kind & mask) != 0)
            {
                replay.Add(frame);
            }
        }

        return new ReplayPlan(last, [.. replay], reason, lost);
    }

    private int IndexOf(long id, long newestId)
    {
        var newestIndex = (_next - 1 + _frames.Length) % _frames.Length;
        var back = (int)(newestId - id);
        return (newestIndex - back + _frames.Length) % _frames.Length;
    }
}

/// <summary>How a subscription starts: the id its connected frame carries, what to replay, and any loss to report.</summary>
/// <param name="StartId">The last id the subscriber will have once it reads the connected frame.</param>
/// <param name="Replay">Frames to deliver before live ones.</param>
/// <param name="LostReason">An <see cref="EventsLostReasons"/> value when events cannot be replayed.</param>
/// <param name="LostCount">How many, when known.</param>
internal readonly record struct ReplayPlan(long StartId, GraphEventFrame[] Replay, string? LostReason, long? LostCount);
