using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents;

/// <summary>
/// The broadcaster behind <see cref="IGraphEventBroadcaster"/>. Publishers write to a bounded
/// ingress channel; one pump task drains it, gives each event its offset in the event log,
/// encodes its frame once, appends what it drained to the durable log in one write (when there is
/// one), keeps the frames in the replay ring (the log's cached tail) and offers the same frame to
/// every subscriber's buffer with a non-blocking write. Nothing a subscriber does can make a
/// publisher or another subscriber wait.
/// </summary>
internal sealed partial class Broadcaster : IGraphEventBroadcaster, IGraphEventStatisticsSource, IDisposable
{
    private readonly int _maxSubscribers;
    private readonly int _subscriberBufferCapacity;
    private readonly long _subscriberBufferCapacityBytes;
    private readonly int _maxEventBytes;
    private readonly bool _dropOldest;
    private readonly TimeProvider _timeProvider;
    private readonly long _startTimestamp;
    private readonly Channel<IngressItem> _ingress;
    private readonly IGraphEventBackplane? _backplane;
    private readonly IGraphEventLog? _log;

    // Where a resume older than the ring reads from: the durable log, or the backplane's stream.
    private readonly IReplaySource? _deeper;
    private readonly Task _pump;
    private readonly ITimer _heartbeatTimer;
    private readonly GraphEventsMetrics _metrics;
    private readonly ILogger? _logger;
    private readonly GraphEventTypeRegistry _customTypes;

    // Guards the subscriber set, the replay ring and the last id together. Subscribe takes a
    // consistent cut under it (replay up to id N, live from N + 1), and the pump takes it once
    // per event for a few instructions, never while it delivers.
    private readonly Lock _gate = new();
    private readonly ReplayRing _ring;

    // Copy-on-write: the pump iterates a snapshot without a lock while subscribes and disposals
    // swap in a new array, so subscription changes cost O(N) once instead of a lock per frame.
    private GraphEventSubscription[] _subscribers = [];

    // The last offset issued, and the log's epoch that every id carries (replaced once, by a
    // backplane that starts its shared stream, before any event flows). Written by the pump (and
    // the backplane's start) under _gate, read without it where a recent value will do.
    private long _lastId;
    private EventIdPrefix _ids;
    private int _disposed;

    // See OtherInstancesClients.
    private int _otherInstancesClients;

    // The pump's drain, reused: one drain is numbered, logged in one append, then delivered.
    private const int MaxDrain = 512;
    private readonly List<IngressItem> _drain = new(MaxDrain);
    private readonly List<GraphEventFrame> _drained = new(MaxDrain);
    private readonly List<LogCommit> _commits = [];

    // The drain's commits that get a publish span (only while a listener takes them).
    private readonly List<LogCommit> _tracedCommits = [];
    private readonly List<object> _attachments = [];
    private readonly List<EventLogRecord> _records = new(MaxDrain);

    // The work items that wake the readers of a drain, reused from drain to drain.
    private readonly SubscriberWakeups.Pool _wakeups = new();

    // The most frames offered to a buffer at once (see Deliver): a whole POST's events, and at
    // most a quarter of a subscriber's buffer.
    private readonly int _deliverySlice;

    private long _eventsPublished;
    private long _framesDelivered;
    private long _subscribersEvicted;
    private long _framesDropped;
    private long _subscribesRefused;
    private long _publishesRejected;
    private long _eventsFailed;

    public Broadcaster(GraphEventsOptions options, TimeProvider timeProvider, GraphEventsMetrics? metrics = null, IGraphEventBackplane? backplane = null, ILogger? logger = null, IGraphEventLog? log = null)
    {
        // Copied, not referenced: options are a mutable class and must not change under a running pump.
        _maxSubscribers = options.MaxSubscribers;
        _subscriberBufferCapacity = options.SubscriberBufferCapacity;
        _subscriberBufferCapacityBytes = options.SubscriberBufferCapacityBytes;
        _deliverySlice = Math.Clamp(_subscriberBufferCapacity / 4, 1, 256);
        _maxEventBytes = options.MaxEventBytes;

        // Frozen, not copied: the registry is this broadcaster's for its life (the backplane and the
        // endpoint read it through CustomEventTypes), and a type added later would have no bit in
        // the filters already handed out.
        _customTypes = options.CustomEventTypes;
        _customTypes.Freeze();
        _dropOldest = options.SlowSubscriberPolicy == SlowSubscriberPolicy.DropOldest;
        _timeProvider = timeProvider;
        _startTimestamp = timeProvider.GetTimestamp();
        _logger = logger;
        _ring = new ReplayRing(options.ReplayCapacity, options.ReplayCapacityBytes);
        if (log is not null && backplane is null)
        {
            // The durable log: ids go on from where it stands, under its epoch, and what it holds
            // from before this run is read from it on resume (the ring starts empty above it).
            var state = log.Open();
            _log = log;
            _ids = new EventIdPrefix(state.Epoch);
            _lastId = state.LastOffset;
            _ring.Floor = state.LastOffset;
            _deeper = new LogReplaySource(log, _ids, _customTypes, timeProvider, logger);
        }
        else
        {
            // The in-memory log (the ring is all of it): a new epoch per broadcaster, so that an id
            // from an earlier run of the process, or from another process, is never taken for ours.
            // Behind a backplane the shared stream's epoch replaces it (StartSequenceAfter).
            _ids = new EventIdPrefix(GraphEventId.NewEpoch());
            _deeper = backplane;
        }

        _ingress = Channel.CreateBounded<IngressItem>(new BoundedChannelOptions(options.IngressCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,

            // The pump's continuation must not run on a publisher's thread: publishing stays O(1).
            AllowSynchronousContinuations = false,
        });
        _pump = Task.Run(PumpAsync);
        _heartbeatTimer = timeProvider.CreateTimer(static state => ((Broadcaster)state!).Beat(), this, options.HeartbeatInterval, options.HeartbeatInterval);
        _metrics = metrics ?? GraphEventsMetrics.Shared;
        _metrics.Attach(this);
        _backplane = backplane;
        backplane?.Attach(this);
    }

    /// <summary>The instruments this broadcaster reports to; stream writers record delivery on them too.</summary>
    internal GraphEventsMetrics Metrics => _metrics;

    /// <summary>The clock of dispatch timestamps, so a writer measures latency on the same clock.</summary>
    internal TimeProvider TimeProvider => _timeProvider;

    /// <summary>The largest frame one event may encode to (<see cref="GraphEventsOptions.MaxEventBytes"/>); an engine over this broadcaster checks its events against it before it learns.</summary>
    internal int MaxEventBytes => _maxEventBytes;

    /// <summary>The epoch of the log whose ids this broadcaster issues.</summary>
    internal string Epoch => Volatile.Read(ref _ids).Epoch;

    /// <summary>The id of the last event issued, or <see langword="null"/> when the log has none yet.</summary>
    internal string? LastEventId
    {
        get
        {
            lock (_gate)
            {
                return _lastId == 0 ? null : _ids.Format(_lastId);
            }
        }
    }

    /// <summary>Bytes of the frames the replay window holds now.</summary>
    internal long ReplayBytes
    {
        get
        {
            lock (_gate)
            {
                return _ring.Bytes;
            }
        }
    }

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    /// <summary>
    /// Subscribers of the other instances that share this broadcaster's backplane (0 without one),
    /// added to <see cref="SubscriberCount"/> in the <c>connected</c> and <c>heartbeat</c> events'
    /// <c>connected_clients</c> so that they count the whole cluster. Only reported: the
    /// subscriber limit stays this instance's own (<see cref="MaxSubscribers"/>).
    /// </summary>
    /// <remarks>
    /// Volatile: the backplane's presence loop writes it on its own thread, and subscribes and the
    /// heartbeat timer read it on theirs without a lock; a recent value is all a count needs.
    /// </remarks>
    internal int OtherInstancesClients
    {
        get => Volatile.Read(ref _otherInstancesClients);
        set => Volatile.Write(ref _otherInstancesClients, value);
    }

    public GraphEventTypeRegistry CustomEventTypes => _customTypes;

    public bool TryPublish(GraphEvent graphEvent)
    {
        var contract = CheckPublishable(graphEvent, out var data);
        var item = new IngressItem(graphEvent, contract, 0, data);

        // Behind a backplane the shared log numbers events, and this host receives its own back
        // from it; one null check is all the single-host path pays for that.
        if (_backplane is null ? _ingress.Writer.TryWrite(item) : TryPublishToBackplane(item))
        {
            return true;
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _publishesRejected);
        return false;
    }

    public async ValueTask PublishAsync(GraphEvent graphEvent, CancellationToken cancellationToken = default)
    {
        var contract = CheckPublishable(graphEvent, out var data);
        var item = new IngressItem(graphEvent, contract, 0, data);
        try
        {
            if (_backplane is null)
            {
                await _ingress.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
                await _backplane.PublishAsync(item, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(GetType().FullName);
        }
    }

    /// <summary>
    /// Sets the shared stream's <paramref name="epoch"/> and where it starts for this host: every offset up to <paramref name="afterId"/>
    /// was issued before it began reading, so a resume from before it is asked of the backplane.
    /// Called by the backplane once, before its first <see cref="WriteSequencedAsync"/>.
    /// </summary>
    internal void StartSequenceAfter(string epoch, long afterId)
    {
        var ids = new EventIdPrefix(epoch);
        lock (_gate)
        {
            if (Volatile.Read(ref _lastId) == 0)
            {
                // The shared stream is the log: its epoch and offsets, not this process's, decide
                // what a resume from an older id gets, on every host alike.
                _ring.Floor = afterId;
                Volatile.Write(ref _ids, ids);
                Volatile.Write(ref _lastId, afterId);
            }
        }
    }

    /// <summary>
    /// Switches to a shared log that replaced the one this host was reading (a Redis that restarted
    /// without its data made a new stream and epoch): events already queued are delivered first, then
    /// the ring is emptied, every id from now on carries <paramref name="epoch"/>, and every subscriber
    /// gets <c>events_lost</c> (<see cref="EventsLostReasons.LogReset"/>): what it saw may be missing
    /// from the new log, and its ids mean nothing there, so it should reload its state.
    /// </summary>
    internal ValueTask ResetSharedLogAsync(string epoch, CancellationToken cancellationToken)
    {
        var notice = new EventsLostEvent(EventsLostReasons.LogReset, null, _timeProvider.GetUtcNow());
        return _ingress.Writer.WriteAsync(new IngressItem(notice, BuiltInEventContracts.EventsLost, 0, null) { Break = new SharedLogBreak(epoch) }, cancellationToken);
    }

    /// <summary>
    /// Tells every subscriber that <paramref name="lost"/> events of the shared log were trimmed away
    /// before this host read them (its reader fell behind the log's length): <c>events_lost</c>
    /// (<see cref="EventsLostReasons.ReplayWindowExceeded"/>, with the count), after the events already
    /// queued. The ring is emptied, so that a resume from before the gap is answered from the log,
    /// which tells it too; ids go on as they were.
    /// </summary>
    internal ValueTask ReportSharedLogGapAsync(long lost, CancellationToken cancellationToken)
    {
        var notice = new EventsLostEvent(EventsLostReasons.ReplayWindowExceeded, lost, _timeProvider.GetUtcNow());
        return _ingress.Writer.WriteAsync(new IngressItem(notice, BuiltInEventContracts.EventsLost, 0, null) { Break = new SharedLogBreak(null) }, cancellationToken);
    }

    private void ApplyBreak(IngressItem item)
    {
        GraphEventSubscription[] subscribers;
        lock (_gate)
        {
            if (item.Break!.NewEpoch is { } epoch)
            {
                // Offsets of the new stream start over (Redis numbers them by its clock): nothing of
                // the old ring may answer a resume in the new epoch.
                _ring.Clear(0);
                Volatile.Write(ref _ids, new EventIdPrefix(epoch));
                Volatile.Write(ref _lastId, 0);
            }
            else
            {
                // Same log, a hole in it: what the ring holds is from before the hole, and a resume
                // from there must be told of the hole, which the log does (it no longer has it).
                _ring.Clear(Volatile.Read(ref _lastId));
            }

            subscribers = _subscribers;
        }

        // The pump's drain is over (ApplyBreak runs between drains), so its list is free.
        _drained.Add(GraphEventFrame.Create(item.Event));
        Deliver(_drained, subscribers);
        _drained.Clear();
    }

    /// <summary>
    /// Queues an event the backplane read from the shared log, under the log's <paramref name="id"/>,
    /// with the contract its name resolved to there (so the pump does not look it up again).
    /// Waits while the ingress is full, so a backlog stays in the log instead of in memory.
    /// </summary>
    /// <exception cref="ChannelClosedException">The broadcaster was disposed.</exception>
    internal ValueTask WriteSequencedAsync(long id, GraphEvent graphEvent, GraphEventContract contract, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id);
        return _ingress.Writer.WriteAsync(new IngressItem(graphEvent, contract, id, null), cancellationToken);
    }

    /// <summary>The contract of <paramref name="graphEvent"/>'s type here: the library's by its kind (no search), a host's by its exact type (tests).</summary>
    internal GraphEventContract? ContractOf(GraphEvent graphEvent) =>
        graphEvent.Kind != GraphEventKind.None ? BuiltInEventContracts.Of(graphEvent.Kind) : _customTypes.Find(graphEvent.GetType());

    private bool TryPublishToBackplane(in IngressItem item)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _backplane!.TryPublish(item);
    }

    public int MaxSubscribers => _maxSubscribers;

    public GraphEventSubscription Subscribe(GraphEventSubscribeOptions? options = null) =>
        TrySubscribe(options, out var subscription) ? subscription : throw new GraphEventSubscriberLimitException(_maxSubscribers);

    public bool TrySubscribe([NotNullWhen(true)] out GraphEventSubscription? subscription) => TrySubscribe(null, out subscription);

    public bool TrySubscribe(GraphEventSubscribeOptions? options, [NotNullWhen(true)] out GraphEventSubscription? subscription)
    {
        var mask = ParseFilter(options?.EventTypes, _customTypes);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // A stampede at the limit is refused before anything is allocated; the check under the
        // lock below is the one that decides.
        if (Volatile.Read(ref _subscribers).Length >= _maxSubscribers)
        {
            Interlocked.Increment(ref _subscribesRefused);
            subscription = null;
            return false;
        }

        var created = new GraphEventSubscription(
            this,
            new SubscriberQueue(_subscriberBufferCapacity, _subscriberBufferCapacityBytes, _dropOldest),
            mask);

        int connectedClients;
        ReplayPlan plan;
        EventIdPrefix ids;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);

            // Checked and added under one lock: concurrent subscribes can never overshoot the limit.
            if (_subscribers.Length >= _maxSubscribers)
            {
                Interlocked.Increment(ref _subscribesRefused);
                subscription = null;
                return false;
            }

            Volatile.Write(ref _subscribers, [.. _subscribers, created]);
            connectedClients = _subscribers.Length;
            ids = _ids;
            plan = PlanResume(options?.LastEventId);
        }

        // Encoding happens outside the lock; the subscription is not handed out yet, so nobody
        // reads it before Start, and the pump only touches its queue.
        var now = _timeProvider.GetUtcNow();
        var connected = GraphEventFrame.Create(ids, plan.StartId, new ConnectedEvent(created.ClientId, connectedClients + OtherInstancesClients, now));
        var loss = plan.LostReason is null ? null : GraphEventFrame.Create(new EventsLostEvent(plan.LostReason, plan.LostCount, now));
        created.Start(connected, loss, plan.Replay, plan.LostCount ?? 0, plan.GapThrough == 0 ? null : _deeper, plan.StartId, plan.GapThrough, plan.SkipThrough);
        subscription = created;
        return true;
    }

    /// <summary>
    /// Under <see cref="_gate"/>: how a subscription that already has every event up to
    /// <paramref name="lastEventId"/> starts. An id this log did not issue (another log's epoch, a
    /// malformed id, an offset ahead of the log) cannot be resumed from: the client starts live and
    /// is told (<see cref="EventsLostReasons.UnknownLastEventId"/>), never resumed from unrelated events.
    /// </summary>
    private ReplayPlan PlanResume(string? lastEventId)
    {
        if (lastEventId is null)
        {
            return new ReplayPlan(_lastId, [], null, null);
        }

        if (GraphEventId.TryParse(lastEventId, out var epoch, out var offset) && string.Equals(epoch, _ids.Epoch, StringComparison.Ordinal))
        {
            if (offset <= _lastId)
            {
                return _ring.PlanResume(offset, _lastId, _deeper is not null);
            }

            // Behind a backplane, another host may have delivered an offset this host has not read
            // yet (a client that moved): start there and skip what it already has as it arrives.
            if (_backplane is not null && _backplane.MayHaveIssued(offset))
            {
                return new ReplayPlan(offset, [], null, null) { SkipThrough = offset };
            }
        }

        return new ReplayPlan(_lastId, [], EventsLostReasons.UnknownLastEventId, null);
    }

    public GraphEventBroadcasterStatistics GetStatistics() => new(
        SubscriberCount,
        LastEventId,
        Interlocked.Read(ref _eventsPublished),
        Interlocked.Read(ref _framesDelivered),
        Interlocked.Read(ref _subscribersEvicted),
        Interlocked.Read(ref _framesDropped),
        Interlocked.Read(ref _subscribesRefused),
        Interlocked.Read(ref _publishesRejected),
        Interlocked.Read(ref _eventsFailed));

    internal void Unsubscribe(GraphEventSubscription subscription, SubscriptionEndReason reason)
    {
        if (!subscription.End(reason))
        {
            return;
        }

        lock (_gate)
        {
            var current = _subscribers;
            var index = Array.IndexOf(current, subscription);
            if (index < 0)
            {
                return;
            }

            var next = new GraphEventSubscription[current.Length - 1];
            Array.Copy(current, 0, next, 0, index);
            Array.Copy(current, index + 1, next, index, current.Length - index - 1);
            Volatile.Write(ref _subscribers, next);
        }
    }

    /// <summary>Takes subscriptions that lagged out of the snapshot with one copy of the array.</summary>
    private void RemoveLagging(List<GraphEventSubscription> lagging)
    {
        var ended = new HashSet<GraphEventSubscription>(lagging, ReferenceEqualityComparer.Instance);
        lock (_gate)
        {
            Volatile.Write(ref _subscribers, [.. _subscribers.Where(s => !ended.Contains(s))]);
        }
    }

    private async Task PumpAsync()
    {
        var reader = _ingress.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // A drain: whatever is queued, up to MaxDrain, is numbered, appended to the log in one
            // write and then delivered. Under load that is one log write for hundreds of events;
            // idle, one per event, with no added wait.
            IngressItem? reset = null;
            while (_drain.Count < MaxDrain && reader.TryRead(out var item))
            {
                if (item.Break is not null)
                {
                    // A barrier: what came before it is delivered under the old log's ids, what
                    // comes after it under the new one's.
                    reset = item;
                    break;
                }

                _drain.Add(item);
            }

            try
            {
                DispatchDrain();
            }
#pragma warning disable CA1031 // Whatever one drain throws, the next must still be delivered: the pump is every subscriber's only source.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                // Only a bug gets here (each event's failure is caught where it is encoded, the
                // log's where it is written); fail what was not completed and go on.
                foreach (var commit in _commits)
                {
                    commit.Fail(exception);
                }

                foreach (var item in _drain)
                {
                    if (item.Commit is null)
                    {
                        Fail(item.Event, exception);
                    }
                }
            }
            finally
            {
                _drain.Clear();
                _drained.Clear();
                _commits.Clear();
                _tracedCommits.Clear();
                _attachments.Clear();
                _records.Clear();
            }

            if (reset is { } barrier)
            {
                ApplyBreak(barrier);
            }
        }
    }

    /// <summary>
    /// Commits <paramref name="events"/> as one block: consecutive ids, in one append to the event
    /// log together with <paramref name="attachment"/> (a change for the store the log is, see
    /// <see cref="Persists"/>), delivered only once appended. Returns the id of the block's last
    /// event (of the log's last event for an empty block), or <see langword="null"/> behind a
    /// backplane, whose shared stream numbers events later, on every host.
    /// </summary>
    /// <exception cref="ArgumentException">An event cannot be published (see <see cref="PublishAsync"/>), or the log cannot store <paramref name="attachment"/>; nothing was committed.</exception>
    /// <exception cref="ToolGraphStoreException">The log could not be written; nothing was committed or delivered.</exception>
    internal async ValueTask<string?> CommitAsync(IReadOnlyList<GraphEvent> events, object? attachment, CancellationToken cancellationToken)
    {
        var items = new IngressItem[events.Count];
        for (var i = 0; i < items.Length; i++)
        {
            var contract = CheckPublishable(events[i], out var data);
            items[i] = new IngressItem(events[i], contract, 0, data);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_backplane is not null)
        {
            foreach (var item in items)
            {
                await _backplane.PublishAsync(item, cancellationToken).ConfigureAwait(false);
            }

            return null;
        }

        // Checked here, on the committer's thread: an attachment the log cannot store would fail the
        // pump's whole drain, everyone's events with it, where it should fail this call alone.
        if (attachment is not null && (_log is null || !_log.Writes(attachment)))
        {
            throw new ArgumentException($"This broadcaster's event log cannot store a {attachment.GetType().Name} with its events.", nameof(attachment));
        }

        var commit = new LogCommit(items, attachment)
        {
            // Read only while someone listens: Activity.Current is an async-local read, cheap but not free.
            TraceParent = GraphEventsTracing.Source.HasListeners() ? Activity.Current?.Context ?? default : default,
        };
        try
        {
            await _ingress.Writer.WriteAsync(new IngressItem(null!, null!, 0, null) { Commit = commit }, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(GetType().FullName);
        }

        return await commit.Committed.ConfigureAwait(false);
    }

    /// <summary>
    /// Whether this broadcaster's durable log is <paramref name="store"/> itself (the SQLite log and
    /// store share a file and a transaction), so that <see cref="CommitAsync"/> can write a graph
    /// change and its events at once.
    /// </summary>
    internal bool Persists(object store) => _log is not null && ReferenceEquals(_log, store);

    private void Fail(in IngressItem item, Exception exception) => Fail(item.Event, exception);

    private void Fail(GraphEvent @event, Exception exception)
    {
        Interlocked.Increment(ref _eventsFailed);
        if (_logger is not null)
        {
            try
            {
                LogEventFailed(_logger, @event.EventType, exception);
            }
#pragma warning disable CA1031 // A logger that throws must not end the pump either.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A '{EventType}' event could not be broadcast and was skipped; the events after it are delivered")]
    private static partial void LogEventFailed(ILogger logger, string eventType, Exception exception);

    /// <summary>
    /// Numbers, encodes, logs and delivers the drain in <see cref="_drain"/>. One event that cannot
    /// be encoded costs that event only (its offset is not used, so offsets stay consecutive), or
    /// its whole block for a commit; a log that cannot be written costs the drain's events (its
    /// commits fail, nothing of it is delivered), never the pump.
    /// </summary>
    private void DispatchDrain()
    {
        var next = _lastId;
        var timestamp = _timeProvider.GetTimestamp();

        // The clock is read for spans only while a listener takes them; the spans themselves are
        // made at the end of the drain (PublishSpans), so that nothing of the pump's work runs
        // with one of them current.
        var tracing = GraphEventsTracing.Source.HasListeners();
        var traceStart = tracing ? _timeProvider.GetUtcNow() : default;
        var ids = _ids;
        foreach (var item in _drain)
        {
            if (item.Commit is { } commit)
            {
                var before = next;
                var count = _drained.Count;
                try
                {
                    foreach (var part in commit.Items)
                    {
                        _drained.Add(Encode(part, ids, ++next, timestamp));
                    }
                }
#pragma warning disable CA1031 // The block fails as a whole, and its committer hears why.
                catch (Exception exception)
#pragma warning restore CA1031
                {
                    next = before;
                    _drained.RemoveRange(count, _drained.Count - count);
                    commit.Fail(exception);
                    continue;
                }

                commit.LastOffset = next;
                _commits.Add(commit);
                if (commit.Attachment is { } attachment)
                {
                    _attachments.Add(attachment);
                }

                continue;
            }

            if (item.Event is HeartbeatEvent)
            {
                // Heartbeats carry no id and are not logged or kept for replay: they must not move
                // a client's Last-Event-ID, and replaying a stale keep-alive would tell nobody anything.
                _drained.Add(GraphEventFrame.Create(null, 0, item.Event, item.Contract, timestamp));
                continue;
            }

            if (item.Id != 0)
            {
                // The backplane's stream numbers this event. Its offsets only increase; one that does
                // not (a stream read again after a failure) was delivered already and must not be again.
                if (item.Id <= next)
                {
                    continue;
                }

                try
                {
                    _drained.Add(Encode(item, ids, item.Id, timestamp));
                    next = item.Id;
                }
#pragma warning disable CA1031 // Whatever one event throws, the next event must still be delivered.
                catch (Exception exception)
#pragma warning restore CA1031
                {
                    Fail(item, exception);
                }

                continue;
            }

            try
            {
                var frame = Encode(item, ids, next + 1, timestamp);
                if (frame.Length > _maxEventBytes)
                {
                    // Checked at publish already; only an event changed after it was published (a
                    // list the publisher kept and filled) gets here, and it must not pin its bytes
                    // in every buffer. Its offset is not used, so the offsets stay consecutive.
                    throw new InvalidOperationException($"A '{item.Event.EventType}' event grew to a {frame.Length:N0}-byte frame after it was published; {GraphEventsOptions.SectionName}:{nameof(GraphEventsOptions.MaxEventBytes)} is {_maxEventBytes:N0}.");
                }

                _drained.Add(frame);
                next++;
            }
#pragma warning disable CA1031 // Whatever one event throws, the next event must still be delivered.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Fail(item, exception);
            }
        }

        if (tracing)
        {
            // Kept past TryAppend and Complete, which empty _commits.
            _tracedCommits.AddRange(_commits);
        }

        var resynced = false;
        if (_log is not null && (next != _lastId || _attachments.Count > 0) && !TryAppend(out var logLast))
        {
            next = Math.Max(_lastId, logLast);
            resynced = next != _lastId;
        }

        var appendedAt = tracing ? _timeProvider.GetUtcNow() : default;

        GraphEventSubscription[] subscribers;
        lock (_gate)
        {
            if (resynced)
            {
                // What the log holds beyond the ring is read from the log on resume, like a restart's.
                _ring.Floor = next;
            }

            foreach (var frame in _drained)
            {
                if (frame.Offset != 0)
                {
                    _ring.Add(frame);
                }
            }

            Volatile.Write(ref _lastId, next);
            subscribers = _subscribers;
        }

        // The block is in the log (and the ring): its committer may now say so, e.g. the engine
        // stamps its snapshot with this id; a reader of that snapshot resumes from it exactly.
        foreach (var commit in _commits)
        {
            commit.Complete(ids.Format(commit.LastOffset));
        }

        _commits.Clear();
        Deliver(_drained, subscribers);
        if (_tracedCommits.Count > 0)
        {
            PublishSpans(traceStart, appendedAt, ids, subscribers.Length);
        }
    }

    /// <summary>
    /// Records one <see cref="GraphEventsTracing.Publish"/> span per block of the drain that was
    /// committed within a span, as its child: from the drain's start, through the log append (an
    /// event), to the end of delivery. The drain's append and delivery are shared by its blocks,
    /// so each block's span covers all of them; the drain's size is a tag. A block that failed
    /// (the log could not be written) ends in error. A block committed outside any span gets none:
    /// the pump's own context is whatever flowed into it when it started, not the block's.
    /// </summary>
    private void PublishSpans(DateTimeOffset start, DateTimeOffset appendedAt, EventIdPrefix ids, int subscribers)
    {
        var end = _timeProvider.GetUtcNow();
        try
        {
            foreach (var commit in _tracedCommits)
            {
                if (commit.TraceParent == default)
                {
                    continue;
                }

                using var activity = GraphEventsTracing.Source.CreateActivity(GraphEventsTracing.Publish, ActivityKind.Internal, commit.TraceParent);
                if (activity is null)
                {
                    continue;
                }

                activity.SetStartTime(start.UtcDateTime);
                activity.SetTag(GraphEventsTracing.EventsTag, commit.Items.Length);
                activity.SetTag(GraphEventsTracing.DrainEventsTag, _drained.Count);
                activity.SetTag(GraphEventsTracing.SubscribersTag, subscribers);
                if (commit.Committed.IsCompletedSuccessfully)
                {
                    activity.SetTag(GraphEventsTracing.LastEventIdTag, ids.Format(commit.LastOffset));
                    activity.AddEvent(new ActivityEvent(GraphEventsTracing.AppendedEvent, appendedAt));
                }
                else if (commit.Committed.Exception?.InnerException is { } exception)
                {
                    GraphEventsTracing.Fail(activity, exception);
                }

                // Start and stop at once, with the times recorded: the span is current only
                // between the two, on this thread, and the pump's context is as it was after.
                activity.Start();
                activity.SetEndTime(end.UtcDateTime);
                activity.Stop();
            }
        }
        finally
        {
            _tracedCommits.Clear();
        }
    }

    /// <summary>
    /// Appends the drain's numbered frames and its commits' attachments to the durable log in one
    /// write, before any of them is delivered: what a client sees is always replayable. When the log
    /// fails, nothing of the drain is delivered except heartbeats, its commits fail with the log's
    /// error, and its other events are counted and logged as failed, and <paramref name="logLast"/>
    /// is the log's own last offset, which numbering goes on from.
    /// </summary>
    private bool TryAppend(out long logLast)
    {
        foreach (var frame in _drained)
        {
            if (frame.Offset != 0)
            {
                _records.Add(new EventLogRecord(frame.Offset, frame.EventType, frame.Data));
            }
        }

        try
        {
            _log!.Append(_records, _attachments);
            logLast = 0;
            return true;
        }
#pragma warning disable CA1031 // The log's failure costs this drain, not the pump.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            foreach (var commit in _commits)
            {
                commit.Fail(exception);
            }

            _commits.Clear();
            foreach (var frame in _drained)
            {
                if (frame.Offset != 0)
                {
                    Fail(frame.Event, exception);
                }
            }

            _drained.RemoveAll(static frame => frame.Offset != 0);

            // A write that failed may still have reached the file (an error reported after the
            // commit): the log's own count is the truth, so numbering goes on from it and never
            // reuses an offset.
            try
            {
                logLast = _log!.State.LastOffset;
            }
#pragma warning disable CA1031 // A log that cannot even say where it stands keeps the old count.
            catch (Exception)
#pragma warning restore CA1031
            {
                logLast = _lastId;
            }

            return false;
        }
    }

    private static GraphEventFrame Encode(in IngressItem item, EventIdPrefix ids, long offset, long timestamp) =>
        item.Data is null
            ? GraphEventFrame.Create(ids, offset, item.Event, item.Contract, timestamp)
            : GraphEventFrame.Create(ids, offset, item.Event, item.Contract, item.Data, timestamp);

    /// <summary>
    /// Offers the frames of a drain to every subscriber, in order, a slice at a time: each
    /// subscriber's buffer takes the frames of a slice its filter keeps under one lock, and each
    /// reader that was waiting is woken once for the slice, so that it finds all of it at once (a
    /// stream writer then writes it in one flush). The wake-ups are handed to a few work items
    /// together (<see cref="SubscriberWakeups"/>). A drain is one slice unless it is large (a
    /// backlog): then the readers start on the first slices while the pump offers the next, as they
    /// did when frames were offered one at a time, so that a burst larger than a buffer does not
    /// end subscribers that keep up with it.
    /// </summary>
    private void Deliver(List<GraphEventFrame> frames, GraphEventSubscription[] subscribers)
    {
        // The same snapshot for every slice: a subscriber ended by one is closed to the next.
        for (var start = 0; start < frames.Count; start += _deliverySlice)
        {
            DeliverSlice(frames, start, Math.Min(_deliverySlice, frames.Count - start), subscribers);
        }

        Interlocked.Add(ref _eventsPublished, frames.Count);
    }

    private void DeliverSlice(List<GraphEventFrame> frames, int start, int count, GraphEventSubscription[] subscribers)
    {
        long delivered = 0;
        long dropped = 0;
        List<GraphEventSubscription>? lagging = null;
        SubscriberWakeups? wakeups = null;
        foreach (var subscriber in subscribers)
        {
            var result = subscriber.Queue.TryEnqueueRange(frames, start, count, subscriber.Mask, ref delivered, ref dropped, out var wake);
            if (wake)
            {
                (wakeups ??= _wakeups.Rent(subscribers.Length)).Add(subscriber.Queue);
            }

            if (result == EnqueueResult.Full && subscriber.End(SubscriptionEndReason.Lagging))
            {
                // Ended now (so nothing more is enqueued for it), removed from the snapshot below
                // in one pass: when many lag at once, that is one copy, not one each. The frames it
                // took before it filled are still read.
                (lagging ??= []).Add(subscriber);
            }
        }

        wakeups?.Dispatch();
        if (lagging is not null)
        {
            RemoveLagging(lagging);
            Interlocked.Add(ref _subscribersEvicted, lagging.Count);
        }

        Interlocked.Add(ref _framesDropped, dropped);
        Interlocked.Add(ref _framesDelivered, delivered);
    }

    private void Beat()
    {
        if (Volatile.Read(ref _disposed) != 0 || SubscriberCount == 0)
        {
            return;
        }

        var uptime = (long)_timeProvider.GetElapsedTime(_startTimestamp).TotalSeconds;

        // A full ingress means the pump is behind on real events; a skipped keep-alive costs nothing.
        var heartbeat = new HeartbeatEvent(SubscriberCount + OtherInstancesClients, uptime, _timeProvider.GetUtcNow()) { Degraded = IsDegraded?.Invoke() == true ? true : null };
        _ingress.Writer.TryWrite(new IngressItem(heartbeat, BuiltInEventContracts.Heartbeat, 0, null));
    }

    /// <summary>
    /// Set by a backplane: whether the shared log cannot be reached now, which every heartbeat then
    /// tells the subscribers (<see cref="HeartbeatEvent.Degraded"/>), so that an outage is visible on
    /// the stream and not only as silence.
    /// </summary>
    internal Func<bool>? IsDegraded { get; set; }

    /// <summary>
    /// Refuses, on the publisher's thread, what the pump could not send: a type this broadcaster
    /// does not know, a type only the broadcaster creates (connected, events_lost, heartbeat), a
    /// number JSON cannot carry, a frame over the size limit. Returns the event's contract, and its
    /// data JSON when measuring it took encoding it, for the pump to use as they are.
    /// </summary>
    private GraphEventContract CheckPublishable(GraphEvent graphEvent, out byte[]? data)
    {
        ArgumentNullException.ThrowIfNull(graphEvent);
        var kind = graphEvent.Kind;
        if (kind == GraphEventKind.None)
        {
            return CheckCustom(graphEvent, out data);
        }

        if (kind is GraphEventKind.Connected or GraphEventKind.EventsLost)
        {
            throw new ArgumentException($"'{graphEvent.EventType}' events are addressed to one subscriber and are created by the broadcaster; they cannot be published.", nameof(graphEvent));
        }

        if (kind is GraphEventKind.Heartbeat)
        {
            // Reserved like connected: a published one would tell every client a subscriber count
            // and an uptime that are not the broadcaster's, and a client reads heartbeats as the
            // server's own word that the stream is alive.
            throw new ArgumentException($"'{graphEvent.EventType}' events are the broadcaster's keep-alive, sent every {GraphEventsOptions.SectionName}:{nameof(GraphEventsOptions.HeartbeatInterval)}; they cannot be published.", nameof(graphEvent));
        }

        var contract = BuiltInEventContracts.Of(kind);
        if (contract.FindUnencodableField(graphEvent) is { } field)
        {
            throw new ArgumentException($"A '{graphEvent.EventType}' event cannot be encoded: {field} is not a finite number, and JSON has no NaN or infinity.", nameof(graphEvent));
        }

        // A bound from string lengths answers for nearly every event without encoding it; only one
        // that may be too large (six times the limit in characters, by default about 170,000) is
        // encoded here, and then the pump uses those bytes instead of encoding it again.
        data = EncodedSize.FrameBound(contract.DataBound(graphEvent)!.Value) <= _maxEventBytes ? null : MeasureLarge(graphEvent, contract, _maxEventBytes);
        return contract;
    }

    /// <summary>
    /// The check of a host's event: its type registered here, its name the registered one, and its
    /// data JSON encoded now (a host's type has no cheap bound, so it is serialized, then measured;
    /// the pump sends these bytes), within the size limit and on one line.
    /// </summary>
    private GraphEventContract CheckCustom(GraphEvent graphEvent, out byte[] data)
    {
        // One lookup by exact type, here on the publisher's thread: the contract then travels with
        // the event, so neither the pump nor the fan-out ever searches for it.
        var type = graphEvent.GetType();
        var contract = _customTypes.Find(type);
        if (contract is null)
        {
            var registered = _customTypes.Count == 0 ? "none" : string.Join(", ", _customTypes.Names);
            throw new ArgumentException(
                graphEvent is RawGraphEvent
                    ? $"A {nameof(RawGraphEvent)} ('{GraphEventTypeRegistry.Printable(graphEvent.EventType)}') is what a reader makes of a type it does not know; it cannot be published."
                    : $"{type.FullName} is not an event type of this broadcaster: register it with AddEventType<{type.Name}>(name, jsonTypeInfo) on AddGraphEvents(), or {nameof(GraphEventsOptions)}.{nameof(GraphEventsOptions.CustomEventTypes)}.Add (registered: {registered}).",
                nameof(graphEvent));
        }

        if (!string.Equals(graphEvent.EventType, contract.Name, StringComparison.Ordinal))
        {
            // The frame would say contract.Name whatever the event says; refusing keeps EventType
            // true for every reader (in process too) and catches a name built from data.
            throw new ArgumentException($"A {type.FullName} event is named '{GraphEventTypeRegistry.Printable(graphEvent.EventType)}', but the type is registered as '{contract.Name}'.", nameof(graphEvent));
        }

        data = MeasureLarge(graphEvent, contract, _maxEventBytes);

        // JSON escapes CR and LF inside strings, so a raw one can only come from a converter that
        // wrote raw JSON with line breaks between tokens: it would end the data: line.
        if (data.AsSpan().IndexOfAny((byte)'\r', (byte)'\n') >= 0)
        {
            throw new ArgumentException($"A '{contract.Name}' event's data JSON holds a line break (a converter of {type.FullName} wrote raw JSON with one); a data: line must be one line.", nameof(graphEvent));
        }

        return contract;
    }

    /// <summary>Encodes an event that may exceed <paramref name="maxEventBytes"/> and refuses it if it does; its data JSON otherwise.</summary>
    internal static byte[] MeasureLarge(GraphEvent graphEvent, GraphEventContract contract, int maxEventBytes)
    {
        byte[] data;
        try
        {
            data = SseFrameEncoder.EncodeData(graphEvent, contract);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw new ArgumentException($"A '{contract.Name}' event cannot be encoded: {exception.Message}", nameof(graphEvent), exception);
        }

        var size = EncodedSize.Frame(contract.Name, data.Length);
        if (size > maxEventBytes)
        {
            throw new ArgumentException(
                $"A '{contract.Name}' event encodes to a {size:N0}-byte frame, over {GraphEventsOptions.SectionName}:{nameof(GraphEventsOptions.MaxEventBytes)} ({maxEventBytes:N0} bytes).",
                nameof(graphEvent));
        }

        return data;
    }

    /// <summary>
    /// The filter mask of a subscription: the bits of the named types (the library's, or registered
    /// here) and the control types; every bit when no names are given. Built once per subscribe,
    /// so the pump checks it with one AND per subscriber per event.
    /// </summary>
    private static GraphEventKind ParseFilter(IReadOnlyCollection<string>? eventTypes, GraphEventTypeRegistry customTypes)
    {
        if (eventTypes is null)
        {
            return GraphEventKind.All;
        }

        var mask = GraphEventKind.Control;
        List<string>? unknown = null;
        foreach (var name in eventTypes)
        {
            if (name is not null && GraphEventJson.FindContract(name, customTypes) is { } contract)
            {
                mask |= contract.Kind;
            }
            else
            {
                (unknown ??= []).Add(name ?? "(null)");
            }
        }

        if (unknown is not null)
        {
            throw new ArgumentException(
                $"Unknown event type(s): {string.Join(", ", unknown.Select(n => $"'{GraphEventTypeRegistry.Printable(n)}'"))}. Known types: {string.Join(", ", [.. GraphEventTypes.All, .. customTypes.Names])}.",
                nameof(eventTypes));
        }

        return mask;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _heartbeatTimer.DisposeAsync().ConfigureAwait(false);
        _metrics.Detach(this);

        // Deliver what was already accepted, then end every subscription.
        _ingress.Writer.TryComplete();
        try
        {
            await _pump.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Disposal must end every subscription; the pump catches per event, so this is a last resort.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            if (_logger is not null)
            {
                LogPumpFailed(_logger, exception);
            }
        }

        GraphEventSubscription[] subscribers;
        lock (_gate)
        {
            subscribers = _subscribers;
        }

        foreach (var subscriber in subscribers)
        {
            Unsubscribe(subscriber, SubscriptionEndReason.BroadcasterDisposed);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The broadcast pump ended with an error")]
    private static partial void LogPumpFailed(ILogger logger, Exception exception);

    /// <summary>
    /// For a dependency-injection container disposed synchronously, and for nothing else: that is
    /// why it is on this internal type and not on <see cref="IGraphEventBroadcaster"/>. A
    /// <c>ServiceProvider</c>'s <c>Dispose</c> throws for a singleton that is only
    /// <see cref="IAsyncDisposable"/>, and a container is disposed synchronously by <c>using</c> in
    /// a console app or a test, or by a host that knows only <see cref="IDisposable"/>.
    /// </summary>
    /// <remarks>
    /// Blocking on <see cref="DisposeAsync"/> cannot deadlock: what it waits for is the timer's
    /// callback in flight and the pump's drain of the bounded ingress, CPU work on frames already
    /// in memory that runs on the thread pool (every await in it is <c>ConfigureAwait(false)</c>),
    /// never on the caller's context, and that takes no lock a caller could hold.
    /// </remarks>
    void IDisposable.Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
