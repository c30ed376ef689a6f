using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The one instance that learns (DESIGN §7): whoever holds the lease (<see cref="RedisLearnerLease"/>)
/// reads the executions log from the learned cursor, learns a batch with the engine and appends its
/// events as one unit with the cursor (<see cref="RedisGraphScripts.Commit"/>), fenced by the lease's
/// token and by the head the unit follows. Every other instance keeps trying to take the lease as often
/// as the holder renews it, so a dead learner is replaced within the lease and a third of it.
/// </summary>
/// <remarks>
/// Exactly once: the cursor moves only with the events of what it passed, in one script; a commit
/// whose answer was lost is found on retry (the head moved), the replica folds it, and the cursor is
/// read again from Redis, so nothing is learned twice. A learner that stalls past its lease (a pause)
/// cannot append any more: the script checks the token, and a successor has a new one.
/// </remarks>
internal sealed class RedisGraphLearner
{
    // How long a new learner waits for its replica to reach the stream's head before it gives the
    // lease up (a replica that cannot: it missed units and no snapshot covers them yet).
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly ToolGraphEngineCore _engine;
    private readonly RedisGraphReplica _replica;
    private readonly RedisClusterKeys _keys;
    private readonly string _instanceId;
    private readonly TimeSpan _lease;
    private readonly TimeSpan _renewInterval;
    private readonly TimeSpan _pollInterval;
    private readonly int _batchSize;
    private readonly int _snapshotEvery;
    private readonly int _maxLength;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RedisDoorbell _doorbell;

    private long _token;
    private long _learned;
    private long _waiting;
    private long _terms;

    public RedisGraphLearner(
        ToolGraphEngineCore engine,
        RedisGraphReplica replica,
        RedisClusterKeys keys,
        string instanceId,
        RedisBackplaneOptions options,
        int maxLength,
        TimeProvider timeProvider,
        ILogger logger)
    {
        _engine = engine;
        _replica = replica;
        _keys = keys;
        _instanceId = instanceId;
        _lease = options.LearnerLease;
        _renewInterval = options.LearnerLease / 3;
        _pollInterval = options.PollInterval;
        _batchSize = options.LearnBatchSize;
        _maxLength = maxLength;
        _snapshotEvery = options.SnapshotInterval(maxLength);
        _timeProvider = timeProvider;
        _logger = logger;
        _doorbell = new RedisDoorbell(options.PollInterval, timeProvider);
    }

    /// <summary>Whether this instance holds the lease now.</summary>
    public bool IsLearner => Interlocked.Read(ref _token) != 0;

    /// <summary>Executions this instance learned (or skipped as refused) while it was the learner.</summary>
    public long Learned => Interlocked.Read(ref _learned);

    /// <summary>Executions waiting in the log after this instance's last commit as the learner.</summary>
    public long Waiting => Interlocked.Read(ref _waiting);

    /// <summary>How many times this instance took the lease.</summary>
    public long Terms => Interlocked.Read(ref _terms);

    /// <summary>Wakes the learner: executions were appended.</summary>
    public void Ring() => _doorbell.Ring();

    public async Task RunAsync(IConnectionMultiplexer redis, CancellationToken stopping)
    {
        var db = redis.GetDatabase();
        var lease = new RedisLearnerLease(db, _keys.Stream.ToString(), _instanceId, _lease);
        while (!stopping.IsCancellationRequested)
        {
            long? token = null;
            try
            {
                token = await lease.TryAcquireAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Redis away: nobody can learn (or write) now; keep trying.
            }

            if (token is { } held)
            {
                await RunTermAsync(db, lease, held, stopping).ConfigureAwait(false);
            }
            else
            {
                await Task.Delay(_renewInterval, _timeProvider, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task RunTermAsync(IDatabase db, RedisLearnerLease lease, long token, CancellationToken stopping)
    {
        using var term = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Interlocked.Exchange(ref _token, token);
        Interlocked.Increment(ref _terms);
        var renewing = RenewAsync(lease, token, term);
        var reason = "the host is stopping";
        try
        {
            if (!await CatchUpAsync(db, token, term.Token).ConfigureAwait(false))
            {
                reason = "its graph could not catch up with the stream";
                return;
            }

            var cursor = await CursorAsync(db).ConfigureAwait(false);
            RedisClusterLog.BecameLearner(_logger, _instanceId, token, cursor.ToString());

            // A snapshot at every term's start: an instance that starts later always finds one, so
            // it never folds units onto a state of its own making (its tools in another order).
            await WriteSnapshotAsync(db, token, term.Token).ConfigureAwait(false);
            var sinceSnapshot = 0;
            while (!term.IsCancellationRequested)
            {
                try
                {
                    var entries = await db.StreamRangeAsync(_keys.Executions, "(" + cursor, "+", _batchSize).ConfigureAwait(false);
                    if (entries.Length == 0)
                    {
                        await _doorbell.WaitAsync(term.Token).ConfigureAwait(false);
                        continue;
                    }

                    sinceSnapshot += await LearnAsync(db, token, entries, term.Token).ConfigureAwait(false);
                    cursor = entries[^1].Id;
                    if (sinceSnapshot >= _snapshotEvery)
                    {
                        await WriteSnapshotAsync(db, token, term.Token).ConfigureAwait(false);
                        sinceSnapshot = 0;
                    }
                }
                catch (HeadMovedException)
                {
                    // Someone appended after this state (a commit of ours whose answer was lost, or
                    // units this replica has not folded yet): catch up, and learn from the cursor
                    // Redis holds, which says what that commit learned.
                    if (!await CatchUpAsync(db, token, term.Token).ConfigureAwait(false))
                    {
                        reason = "its graph could not catch up with the stream";
                        return;
                    }

                    cursor = await CursorAsync(db).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException && !term.IsCancellationRequested)
                {
                    // A commit may have been applied before the failure: the next one then finds the
                    // head moved and reads the cursor again. Meanwhile the lease may lapse; if so,
                    // the fence refuses this instance's next write and the renewal ends the term.
                    RedisClusterLog.Unavailable(_logger, "learn (Redis is away)", ex);
                    await Task.Delay(RetryDelay, _timeProvider, term.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (!term.IsCancellationRequested)
                    {
                        await CatchUpAsync(db, token, term.Token).ConfigureAwait(false);
                        cursor = await CursorAsync(db).ConfigureAwait(false);
                    }
                }
            }

            reason = stopping.IsCancellationRequested ? "the host is stopping" : "the lease was lost";
        }
        catch (LeaseLostException)
        {
            reason = "the lease was lost (another instance holds it)";
        }
        catch (Exception ex) when (ex is OperationCanceledException or RedisException or TimeoutException)
        {
            reason = term.IsCancellationRequested && !stopping.IsCancellationRequested ? "the lease was lost" : reason;
        }
        finally
        {
            Interlocked.Exchange(ref _token, 0);
            await term.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (stopping.IsCancellationRequested || reason.StartsWith("its graph", StringComparison.Ordinal))
            {
                // A graceful stop gives the lease up at once: the next learner need not wait for it
                // to expire. Best effort; if Redis is away, it expires.
                try
                {
                    await lease.ReleaseAsync(token).WaitAsync(TimeSpan.FromSeconds(1), _timeProvider, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                }
            }

            RedisClusterLog.StoppedLearning(_logger, _instanceId, reason);
        }
    }

    /// <summary>Renews the lease every third of it; ends the term when it is lost or could not be renewed in time.</summary>
    private async Task RenewAsync(RedisLearnerLease lease, long token, CancellationTokenSource term)
    {
        var renewed = _timeProvider.GetTimestamp();
        while (!term.IsCancellationRequested)
        {
            await Task.Delay(_renewInterval, _timeProvider, term.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (term.IsCancellationRequested)
            {
                return;
            }

            try
            {
                if (!await lease.RenewAsync(token).ConfigureAwait(false))
                {
                    await term.CancelAsync().ConfigureAwait(false);
                    return;
                }

                renewed = _timeProvider.GetTimestamp();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Past the lease without a renewal another instance may hold it: stop learning
                // (the fence would refuse the writes anyway).
                if (_timeProvider.GetElapsedTime(renewed) >= _lease)
                {
                    await term.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Waits until this replica's state is as of the stream's head, so that the next unit builds on
    /// everything learned before; after a stream lost its data, makes this state the new stream's base.
    /// </summary>
    private async Task<bool> CatchUpAsync(IDatabase db, long token, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        string? head = null;
        while (_timeProvider.GetElapsedTime(started) < CatchUpTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            head = (string?)await db.StringGetAsync(_keys.Head).ConfigureAwait(false);
            var headOffset = 0L;
            if (head is not null && !RedisStreamId.TryEncode(head, out headOffset))
            {
                throw new InvalidOperationException($"The key '{_keys.Head}' holds '{head}', which is not a stream id.");
            }

            var position = _engine.SharedOffset;
            if (position == headOffset)
            {
                return true;
            }

            if (head is null && position != 0 && await WriteBaseAsync(db, token, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            _replica.Ring();
            await _replica.WaitForChangeAsync(_pollInterval, cancellationToken).ConfigureAwait(false);
        }

        RedisClusterLog.CannotCatchUp(_logger, head ?? "0-0", RedisStreamId.Format(_engine.SharedOffset), CatchUpTimeout);
        return false;
    }

    /// <summary>Writes this state as the base (position 0-0) of a stream that lost its data, and takes that position.</summary>
    private async Task<bool> WriteBaseAsync(IDatabase db, long token, CancellationToken cancellationToken)
    {
        var epoch = await _replica.EnsureEpochAsync(db).ConfigureAwait(false);
        var state = (await _engine.ExportSharedAsync(cancellationToken).ConfigureAwait(false)) with { Offset = 0 };
        var json = RedisGraphSnapshot.Encode(state, epoch);
        var stored = (long)await db.ScriptEvaluateAsync(RedisGraphScripts.Base, [_keys.Lease, _keys.Snapshot, _keys.Head, _keys.Epoch], [Holder(token), json, epoch]).ConfigureAwait(false);
        if (stored != 1)
        {
            return false;
        }

        await _engine.ImportSharedAsync(state, GraphEventId.Format(epoch, 0), cancellationToken).ConfigureAwait(false);
        RedisClusterLog.BaseWritten(_logger, state.Nodes.Length, state.Edges.Length);
        return true;
    }

    private async Task<RedisValue> CursorAsync(IDatabase db) =>
        (string?)await db.StringGetAsync(_keys.LearnedCursor).ConfigureAwait(false) ?? "0-0";

    /// <summary>Learns one read of the executions log; returns the events appended.</summary>
    private async Task<int> LearnAsync(IDatabase db, long token, StreamEntry[] entries, CancellationToken cancellationToken)
    {
        using var activity = StartReceive(entries);
        try
        {
            return await LearnEntriesAsync(db, token, entries, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            RedisClusterTracing.Fail(activity, exception);
            throw;
        }
    }

    /// <summary>
    /// The receive span of a read, when a listener takes it and an entry carries the context it was
    /// appended in: a read of one POST's executions continues that POST's trace; a read of several
    /// POSTs' links to each of them (a span has one parent). No span for a read appended untraced.
    /// </summary>
    private static Activity? StartReceive(StreamEntry[] entries)
    {
        if (!RedisClusterTracing.Source.HasListeners())
        {
            return null;
        }

        List<ActivityLink>? links = null;
        ActivityContext parent = default;
        foreach (var entry in entries)
        {
            if (!RedisClusterTracing.TryReadContext(entry, out var context) || context == parent)
            {
                continue;
            }

            if (parent == default && links is null)
            {
                parent = context;
                continue;
            }

            links ??= [new ActivityLink(parent)];
            if (!links.Exists(link => link.Context == context))
            {
                links.Add(new ActivityLink(context));
            }
        }

        if (parent == default)
        {
            return null;
        }

        if (links is not null)
        {
            // A root with links: not a child of whatever context flowed into the learner's loop when
            // it started (the caller's LearnAsync is async, so this does not leak past it).
            Activity.Current = null;
        }

        var activity = RedisClusterTracing.Source.StartActivity(RedisClusterTracing.ExecutionsReceive, ActivityKind.Consumer, links is null ? parent : default, links: links);
        activity?.SetTag(RedisClusterTracing.EntriesTag, entries.Length);
        activity?.SetTag(RedisClusterTracing.StreamIdTag, entries[0].Id.ToString());
        return activity;
    }

    private async Task<int> LearnEntriesAsync(IDatabase db, long token, StreamEntry[] entries, CancellationToken cancellationToken)
    {
        List<WorkflowExecution> batch = new(entries.Length);
        foreach (var entry in entries)
        {
            if (Decode(entry) is { } execution)
            {
                batch.Add(execution);
            }
            else
            {
                RedisClusterLog.Unreadable(_logger, entry.Id.ToString());
            }
        }

        var cursor = entries[^1].Id;
        if (batch.Count == 0)
        {
            await CommitAsync(db, token, [], _engine.SharedOffset, cursor, entries.Length).ConfigureAwait(false);
            Interlocked.Add(ref _learned, entries.Length);
            return 0;
        }

        var appended = 0;
        try
        {
            var result = await _engine.LearnAsync(
                batch,
                async (events, expected, _) =>
                {
                    appended = events.Count;
                    return await CommitAsync(db, token, events, expected, cursor, entries.Length).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _learned, entries.Length);
            return appended;
        }
        catch (ArgumentException) when (entries.Length > 1)
        {
            // One execution this engine refuses (an instance with other bounds appended it): learn
            // the others one by one, so the one refused costs itself only.
            var total = 0;
            foreach (var entry in entries)
            {
                total += await LearnAsync(db, token, [entry], cancellationToken).ConfigureAwait(false);
            }

            return total;
        }
        catch (ArgumentException ex)
        {
            RedisClusterLog.Refused(_logger, batch[0].Id, entries[0].Id.ToString(), ex.Message);
            await CommitAsync(db, token, [], _engine.SharedOffset, cursor, entries.Length).ConfigureAwait(false);
            Interlocked.Add(ref _learned, entries.Length);
            return 0;
        }
    }

    private async ValueTask<SharedLogPosition> CommitAsync(IDatabase db, long token, IReadOnlyList<GraphEvent> events, long expected, RedisValue cursor, int executions)
    {
        // A unit's append (not a cursor move): a child of the engine's learn span, its context
        // stored with the unit's first event for every instance's backplane to continue.
        using var activity = events.Count > 0 ? RedisClusterTracing.Source.StartActivity(RedisClusterTracing.EventsAppend, ActivityKind.Producer) : null;
        activity?.SetTag(RedisClusterTracing.EntriesTag, events.Count);
        var args = new RedisValue[8 + (2 * events.Count)];
        args[0] = Holder(token);
        args[1] = RedisStreamId.Format(expected);
        args[2] = cursor;
        args[3] = executions;
        args[4] = _keys.EventsNotify.ToString();
        args[5] = _maxLength;
        args[6] = GraphEventId.NewEpoch();
        args[7] = RedisClusterTracing.ContextOf(activity);
        for (var i = 0; i < events.Count; i++)
        {
            args[8 + (2 * i)] = events[i].EventType;
            args[9 + (2 * i)] = GraphEventJson.SerializeToUtf8Bytes(events[i]);
        }

        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await db.ScriptEvaluateAsync(
                RedisGraphScripts.Commit,
                [_keys.Lease, _keys.Stream, _keys.Head, _keys.LearnedCursor, _keys.LearnedCount, _keys.Config, _keys.Executions, _keys.Epoch, _keys.AppendedCount],
                args).ConfigureAwait(false))!;
        }
        catch (Exception exception)
        {
            RedisClusterTracing.Fail(activity, exception);
            throw;
        }

        switch ((long)result[0])
        {
            case 0:
                activity?.SetStatus(ActivityStatusCode.Error, "The learner's lease was lost: nothing was appended.");
                throw new LeaseLostException();
            case -1:
                activity?.SetStatus(ActivityStatusCode.Error, "The stream's head moved: nothing was appended.");
                throw new HeadMovedException();
        }

        activity?.SetTag(RedisClusterTracing.StreamIdTag, (string?)result[1]);

        var last = (string)result[1]!;
        var epoch = (string)result[2]!;
        Interlocked.Exchange(ref _waiting, Math.Max(0, (long)result[3]));
        if (!RedisStreamId.TryEncode(last, out var offset))
        {
            throw new InvalidOperationException($"The event stream issued id {last}, which does not fit a 64-bit event id.");
        }

        return new SharedLogPosition(offset, GraphEventId.Format(epoch, offset));
    }

    private async Task WriteSnapshotAsync(IDatabase db, long token, CancellationToken cancellationToken)
    {
        var epoch = _replica.Epoch;
        if (epoch is null)
        {
            return;
        }

        var state = await _engine.ExportSharedAsync(cancellationToken).ConfigureAwait(false);
        var json = RedisGraphSnapshot.Encode(state, epoch);
        if ((long)await db.ScriptEvaluateAsync(RedisGraphScripts.Snapshot, [_keys.Lease, _keys.Snapshot], [Holder(token), json]).ConfigureAwait(false) == 0)
        {
            throw new LeaseLostException();
        }

        RedisClusterLog.SnapshotWritten(_logger, RedisStreamId.Format(state.Offset));
    }

    private static WorkflowExecution? Decode(StreamEntry entry)
    {
        var data = entry["d"];
        if (data.IsNull)
        {
            return null;
        }

        try
        {
            var parsed = JsonSerializer.Deserialize((byte[])data!, RedisClusterJson.Default.ExecutionEntry);
            if (parsed?.Id is null || parsed.Tasks is null)
            {
                return null;
            }

            var tasks = new WorkflowTask[parsed.Tasks.Length];
            for (var i = 0; i < tasks.Length; i++)
            {
                var task = parsed.Tasks[i];
                if (task?.Id is null || task.Tool is null)
                {
                    return null;
                }

                tasks[i] = new WorkflowTask(task.Id, task.Tool, task.DependsOn ?? []);
            }

            return new WorkflowExecution(parsed.Id, tasks, parsed.Success, parsed.ExecutionTimeMs);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string Holder(long token) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{token}:{_instanceId}");

    /// <summary>The lease was not held with this token when a write was tried: nothing was written.</summary>
    private sealed class LeaseLostException : Exception;

    /// <summary>The stream's head was not the one this learner's state is as of: nothing was written.</summary>
    private sealed class HeadMovedException : Exception;
}
