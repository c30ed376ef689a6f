namespace Pml.GraphEvents;

/// <summary>
/// The most recent broadcast frames, for Last-Event-ID replay: a cache of the event log's tail.
/// Offsets only increase, but they are consecutive only on a single host: behind a backplane they
/// are the shared stream's, with gaps. So frames are found by binary search, and the ring remembers its <see cref="Floor"/>, the
/// newest id it no longer (or never) held, which tells "older than the window" exactly in both
/// cases. Bounded by count and by bytes: the oldest frames leave when either is reached, and the
/// floor moves with them, so a resume from before it is told exactly what it lost. Not
/// thread-safe: the broadcaster guards it.
/// </summary>
internal sealed class ReplayRing
{
    private readonly GraphEventFrame?[] _frames;
    private readonly long _capacityBytes;
    private int _next;
    private int _count;
    private long _bytes;

    public ReplayRing(int capacity, long capacityBytes = long.MaxValue)
    {
        _frames = new GraphEventFrame?[capacity];
        _capacityBytes = capacityBytes;
    }

    /// <summary>Frames held now.</summary>
    public int Count => _count;

    /// <summary>Bytes of the frames held now.</summary>
    public long Bytes => _bytes;

    /// <summary>
    /// Every offset up to this one is not in the ring: evicted, written to the log before this
    /// broadcaster started, or (behind a backplane) published before this host started reading.
    /// </summary>
    public long Floor { get; set; }

    /// <summary>Forgets every frame (their log is gone); every offset up to <paramref name="floor"/> is then not in the ring.</summary>
    public void Clear(long floor)
    {
        Array.Clear(_frames);
        _count = 0;
        _bytes = 0;
        _next = 0;
        Floor = floor;
    }

    public void Add(GraphEventFrame frame)
    {
        // The newest frame always stays, even alone over the byte bound (the options keep the
        // bound at least one largest event, so that happens only in tests of this class).
        var length = frame.Length;
        while (_count > 0 && (_count == _frames.Length || _bytes + length > _capacityBytes))
        {
            var oldest = (_next - _count + _frames.Length) % _frames.Length;
            var evicted = _frames[oldest]!;
            Floor = evicted.Offset;
            _bytes -= evicted.Length;
            _frames[oldest] = null;
            _count--;
        }

        _frames[_next] = frame;
        _next = (_next + 1) % _frames.Length;
        _count++;
        _bytes += length;
    }

    /// <summary>
    /// Plans the start of a subscription that already has every event up to offset
    /// <paramref name="last"/> of this log, when <paramref name="newest"/> is the last offset issued
    /// (the caller has checked that <paramref name="last"/> is this log's and not ahead of it). When
    /// <paramref name="deeper"/> holds what the ring no longer does (the durable log, or a
    /// backplane's shared stream), offsets below the floor are read from it; otherwise they are lost,
    /// and on one log offsets are consecutive, so the count is exact.
    /// </summary>
    public ReplayPlan PlanResume(long last, long newest, bool deeper)
    {
        if (last == newest)
        {
            return new ReplayPlan(newest, [], null, null);
        }

        string? reason = null;
        long? lost = null;
        var startId = last;
        var gap = false;
        if (last < Floor)
        {
            if (deeper)
            {
                // The deeper source reads (last, Floor] page by page, and says what it no longer
                // holds, before the ring's frames are read.
                gap = true;
            }
            else
            {
                reason = EventsLostReasons.ReplayWindowExceeded;
                lost = Floor - last;
                startId = Floor;
            }

            last = Floor;
        }

        // This runs under the broadcaster's lock, which the pump takes for every drain: copy the
        // slice and nothing more. The subscriber's reader applies its filter as it reads.
        return new ReplayPlan(startId, CopyFrom(FirstIndexAfter(last)), reason, lost) { GapThrough = gap ? Floor : 0 };
    }

    /// <summary>The frames from age-order index <paramref name="first"/> to the newest, in at most two block copies.</summary>
    private GraphEventFrame[] CopyFrom(int first)
    {
        var length = _count - first;
        if (length == 0)
        {
            return [];
        }

        var copy = new GraphEventFrame[length];

        // The slots in range are all set: only evicted slots are cleared, and those are older.
        var start = (_next - _count + first + _frames.Length) % _frames.Length;
        var head = Math.Min(length, _frames.Length - start);
        Array.Copy(_frames, start, copy, 0, head);
        Array.Copy(_frames, 0, copy, head, length - head);
        return copy;
    }

    /// <summary>The frame at <paramref name="index"/> in age order, 0 being the oldest.</summary>
    private GraphEventFrame At(int index) => _frames[(_next - _count + index + _frames.Length) % _frames.Length]!;

    /// <summary>The age-order index of the first frame whose id is greater than <paramref name="id"/>; binary search.</summary>
    private int FirstIndexAfter(long id)
    {
        int low = 0, high = _count;
        while (low < high)
        {
            var mid = (int)((uint)(low + high) >> 1);
            if (At(mid).Offset <= id)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }
}

/// <summary>How a subscription starts: the id its connected frame carries, what to replay, and any loss to report.</summary>
/// <param name="StartId">The last offset the subscriber will have once it reads the connected frame.</param>
/// <param name="Replay">Frames to deliver before live ones.</param>
/// <param name="LostReason">An <see cref="EventsLostReasons"/> value when events cannot be replayed.</param>
/// <param name="LostCount">How many, when known.</param>
internal readonly record struct ReplayPlan(long StartId, GraphEventFrame[] Replay, string? LostReason, long? LostCount)
{
    /// <summary>When not 0, the deeper source (log or backplane) must supply the events after <see cref="StartId"/> up to this offset, before <see cref="Replay"/>.</summary>
    public long GapThrough { get; init; }

    /// <summary>When not 0, live frames up to this offset are already with the client and are skipped.</summary>
    public long SkipThrough { get; init; }
}
