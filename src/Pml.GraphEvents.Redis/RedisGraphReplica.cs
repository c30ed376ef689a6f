using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Keeps this instance's graph a replica of the shared one (DESIGN §7): reads the event stream in
/// order and folds each learned unit into the engine (<see cref="ToolGraphEngineCore.ApplySharedUnitAsync"/>),
/// on the state the unit follows. Starts from the learner's latest snapshot when there is one (a late
/// instance: the stream may have been trimmed), and loads it again whenever it finds it missed a unit
/// (a unit whose base is not its state, a unit whose start was trimmed, a stream that lost its data).
/// </summary>
/// <remarks>
/// It reads the stream on its own cursor, apart from the backplane's reader that feeds the
/// broadcaster: the fold must see every unit from its snapshot on, while the broadcaster starts at
/// the newest entry; and a slow fold (metrics of a large graph) must never hold up delivery.
/// </remarks>
internal sealed class RedisGraphReplica
{
    private const int ReadBatchSize = 512;

    private readonly ToolGraphEngineCore _engine;
    private readonly RedisClusterKeys _keys;
    private readonly TimeSpan _pollInterval;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RedisDoorbell _doorbell;

    // Rung after every change of the state (a unit folded, a snapshot loaded): the learner waits on
    // it while it catches up with the stream's head.
    private readonly RedisDoorbell _changed;

    private string? _epoch;
    private int _loaded;
    private RedisValue _cursor = "0-0";

    // The unit being read: its base (from the first entry's b) and its events so far; null between
    // units, or after a unit whose first entry was not seen.
    private List<GraphEvent>? _unit;
    private long _unitBase;
    private long _unitsFolded;
    private long _snapshotsLoaded;

    public RedisGraphReplica(ToolGraphEngineCore engine, RedisClusterKeys keys, TimeSpan pollInterval, TimeProvider timeProvider, ILogger logger)
    {
        _engine = engine;
        _keys = keys;
        _pollInterval = pollInterval;
        _timeProvider = timeProvider;
        _doorbell = new RedisDoorbell(pollInterval, timeProvider);
        _changed = new RedisDoorbell(pollInterval, timeProvider);
        _logger = logger;
    }

    /// <summary>The shared log's epoch this replica is reading, once known.</summary>
    public string? Epoch => Volatile.Read(ref _epoch);

    /// <summary>Units folded in since the start (the learner's own are not: they are installed when learned).</summary>
    public long UnitsFolded => Interlocked.Read(ref _unitsFolded);

    /// <summary>Snapshots loaded since the start.</summary>
    public long SnapshotsLoaded => Interlocked.Read(ref _snapshotsLoaded);

    /// <summary>Wakes the reader: units were appended (the stream's notification, or a reconnect).</summary>
    public void Ring() => _doorbell.Ring();

    /// <summary>Waits until the state changes or <paramref name="timeout"/> passes (one waiter at a time: the learner).</summary>
    public Task WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellationToken) => _changed.WaitAsync(cancellationToken, timeout);

    /// <summary>Reads the epoch, creating it if the stream has none yet (a new or emptied Redis).</summary>
    public async Task<string> EnsureEpochAsync(IDatabase db)
    {
        var epoch = (string?)await db.StringGetAsync(_keys.Epoch).ConfigureAwait(false);
        if (epoch is null)
        {
            await db.StringSetAsync(_keys.Epoch, GraphEventId.NewEpoch(), when: When.NotExists).ConfigureAwait(false);
            epoch = (string?)await db.StringGetAsync(_keys.Epoch).ConfigureAwait(false);
        }

        if (epoch is null || !GraphEventId.IsEpoch(epoch))
        {
            throw new InvalidOperationException($"The key '{_keys.Epoch}' holds '{epoch}', which is not an event log epoch; delete it to make a new one.");
        }

        return epoch;
    }

    /// <summary>
    /// Where to start: loads the learner's latest snapshot (its state and position), or starts at the
    /// stream's beginning when there is none. Called by the host's start-up, before the host's own
    /// start-up code runs, so that this instance serves the shared graph from its first request; and
    /// by <see cref="RunAsync"/> when that could not be done then (Redis away).
    /// </summary>
    public async Task LoadAsync(IDatabase db, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _epoch, await EnsureEpochAsync(db).ConfigureAwait(false));
        if (await TryLoadSnapshotAsync(db, mustCover: -1, cancellationToken).ConfigureAwait(false))
        {
            // Everything up to the snapshot is in it: read on from there.
            _cursor = RedisStreamId.Format(_engine.SharedOffset);
        }

        Volatile.Write(ref _loaded, 1);
    }

    /// <summary>Reads until <paramref name="cancellationToken"/> is cancelled; every failure is logged and retried.</summary>
    public async Task RunAsync(IConnectionMultiplexer redis, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var started = false;
        var failing = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!started)
                {
                    if (Volatile.Read(ref _loaded) == 0)
                    {
                        await LoadAsync(db, cancellationToken).ConfigureAwait(false);
                    }

                    started = true;
                }
                else
                {
                    await _doorbell.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                var epoch = await EnsureEpochAsync(db).ConfigureAwait(false);
                if (!string.Equals(epoch, _epoch, StringComparison.Ordinal))
                {
                    // The stream lost its data (a Redis restarted without persistence): read the new
                    // one from its beginning. The state stays; the first unit of the new stream
                    // follows a base snapshot the learner writes (RedisGraphScripts.Base), which the
                    // gap below loads.
                    RedisClusterLog.NewEpoch(_logger, _keys.Stream.ToString(), _epoch ?? "-", epoch);
                    Volatile.Write(ref _epoch, epoch);
                    _cursor = "0-0";
                    _unit = null;
                }

                StreamEntry[] entries;
                do
                {
                    entries = await db.StreamRangeAsync(_keys.Stream, "(" + _cursor, "+", ReadBatchSize).ConfigureAwait(false);
                    foreach (var entry in entries)
                    {
                        _cursor = entry.Id;
                        await ReadEntryAsync(db, entry, cancellationToken).ConfigureAwait(false);
                    }
                }
                while (entries.Length == ReadBatchSize);

                if (failing)
                {
                    failing = false;
                    RedisClusterLog.Recovered(_logger, "read the event stream into the graph");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Redis away, or something unexpected: the replica only falls behind; log once, retry.
                if (!failing)
                {
                    failing = true;
                    RedisClusterLog.Unavailable(_logger, "read the event stream into the graph", ex);
                }

                await Task.Delay(_pollInterval, _timeProvider, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    internal async Task ReadEntryAsync(IDatabase db, StreamEntry entry, CancellationToken cancellationToken)
    {
        var (type, data, _, _, unitBase, unitOf) = RedisEventEntry.Read(entry);
        if (unitBase is not null)
        {
            // A unit starts; the base says which state it follows. One left unfinished before it
            // lost its end to trimming: it is dropped with this.
            _unit = [];
            _unitBase = RedisStreamId.TryEncode(unitBase, out var b) ? b : -1;
        }
        else if (unitOf is not null && _unit is not null && (!RedisStreamId.TryEncode(unitOf, out var of) || of != _unitBase))
        {
            // An event of another unit than the one being read: this replica fell behind the
            // stream's trimming in the middle of a unit. Neither unit is whole here; the end of this
            // one makes the replica load a snapshot instead.
            _unit = null;
        }

        if (type is null || data is null || !IsGraphType(type))
        {
            // Not a unit's event (a host's event published through the backplane, a loss notice).
            return;
        }

        var entryId = entry.Id.ToString();
        if (!RedisStreamId.TryEncode(entryId, out var offset))
        {
            _unit = null;
            return;
        }

        if (_unit is null)
        {
            if (type == GraphEventTypes.MetricsUpdated)
            {
                // The end of a unit whose start this replica never read (trimmed before it got there).
                await ResyncAsync(db, offset, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        GraphEvent? graphEvent;
        try
        {
            graphEvent = GraphEventJson.Deserialize(type, data);
        }
        catch (System.Text.Json.JsonException ex)
        {
            RedisClusterLog.SkippedEntry(_logger, entryId, ex.Message);
            _unit = null;
            return;
        }

        if (graphEvent is null)
        {
            _unit = null;
            return;
        }

        _unit.Add(graphEvent);
        if (graphEvent is not MetricsUpdatedEvent)
        {
            return;
        }

        var unit = _unit;
        _unit = null;
        var id = GraphEventId.Format(_epoch!, offset);
        var result = _unitBase < 0 ? SharedUnitResult.Gap : await _engine.ApplySharedUnitAsync(unit, _unitBase, offset, id, cancellationToken).ConfigureAwait(false);
        if (result == SharedUnitResult.Applied)
        {
            Interlocked.Increment(ref _unitsFolded);
            _changed.Ring();
        }
        else if (result == SharedUnitResult.Gap)
        {
            if (await ResyncAsync(db, _unitBase, cancellationToken).ConfigureAwait(false) && _engine.SharedOffset == _unitBase
                && await _engine.ApplySharedUnitAsync(unit, _unitBase, offset, id, cancellationToken).ConfigureAwait(false) == SharedUnitResult.Applied)
            {
                Interlocked.Increment(ref _unitsFolded);
                _changed.Ring();
            }
        }
    }

    /// <summary>
    /// Loads the learner's snapshot after a gap, if it reaches back to <paramref name="mustCover"/>
    /// (the base of the unit that did not follow, or the end of one whose start was missed).
    /// </summary>
    private async Task<bool> ResyncAsync(IDatabase db, long mustCover, CancellationToken cancellationToken)
    {
        if (await TryLoadSnapshotAsync(db, mustCover, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        RedisClusterLog.Behind(_logger, _keys.Stream.ToString(), RedisStreamId.Format(Math.Max(mustCover, 0)));
        return false;
    }

    /// <summary>
    /// Loads the snapshot when it is of the current epoch and at or after <paramref name="mustCover"/>
    /// (-1: any), and ahead of the state or the state cannot be trusted (a gap).
    /// </summary>
    private async Task<bool> TryLoadSnapshotAsync(IDatabase db, long mustCover, CancellationToken cancellationToken)
    {
        var json = (byte[]?)await db.StringGetAsync(_keys.Snapshot).ConfigureAwait(false);
        if (json is null)
        {
            return false;
        }

        SharedGraphState state;
        string epoch;
        try
        {
            (state, epoch) = RedisGraphSnapshot.Decode(json);
            if (!string.Equals(epoch, _epoch, StringComparison.Ordinal) || state.Offset < mustCover)
            {
                return false;
            }

            await _engine.ImportSharedAsync(state, GraphEventId.Format(epoch, state.Offset), cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            RedisClusterLog.BadSnapshot(_logger, _keys.Snapshot.ToString(), ex);
            return false;
        }

        Interlocked.Increment(ref _snapshotsLoaded);
        RedisClusterLog.SnapshotLoaded(_logger, RedisStreamId.Format(state.Offset), state.Nodes.Length, state.Edges.Length);
        _changed.Ring();
        return true;
    }

    private static bool IsGraphType(string type) =>
        type is GraphEventTypes.EdgeCreated or GraphEventTypes.EdgeUpdated or GraphEventTypes.WorkflowExecuted or GraphEventTypes.MetricsUpdated;
}
