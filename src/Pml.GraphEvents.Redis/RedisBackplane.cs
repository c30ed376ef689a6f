using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The Redis Streams backplane. Local publishes queue here (bounded, never blocking on Redis); one
/// writer appends them in batches to the stream with <see cref="RedisAppendScript"/>; one reader
/// per instance reads the stream from the last id it saw and feeds the local broadcaster with the
/// stream's ids, so every instance broadcasts the same events in the same order under the same ids.
/// </summary>
/// <remarks>
/// StackExchange.Redis multiplexes every caller over one connection and so does not issue blocking
/// commands (no <c>XREAD BLOCK</c>). Instead of polling at a millisecond interval, the append script
/// PUBLISHes a notification and the reader reads on it: one round trip of latency, no idle load.
/// A slow poll (<see cref="RedisBackplaneOptions.PollInterval"/>) covers a notification lost while
/// the pub/sub connection was down.
/// </remarks>
internal sealed class RedisBackplane : IGraphEventBackplane, IAsyncDisposable, IDisposable
{
    private const int WriteBatchSize = 256;
    private const int ReadBatchSize = 512;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    // How long a producer's record of its last appended sequence outlives its last append (in
    // Redis, and in each reader's memory). It only has to outlast the retry of a batch whose reply
    // was lost, which comes within seconds; a day leaves room for a long outage.
    private static readonly TimeSpan ProducerLifetime = TimeSpan.FromDays(1);

    // How far ahead of this host's clock a resume id may be and still be taken for an id Redis
    // issued that this host has not read yet (clock skew between Redis and the hosts).
    private static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(1);

    // Null when the backplane runs on the application's multiplexer (_shared), which it never closes.
    private readonly ConfigurationOptions? _configuration;
    private readonly IConnectionMultiplexer? _shared;
    private readonly RedisKey _stream;
    private readonly RedisKey _configKey;
    private readonly RedisKey _epochKey;
    private readonly RedisKey[] _scriptKeys;
    private readonly RedisChannel _notify;
    private readonly int _maxLength;
    private readonly int _outageBufferCapacity;
    private readonly int _maxResumeEntries;
    private readonly TimeSpan _stopTimeout;
    private readonly TimeSpan _presenceInterval;
    private RedisPresence? _presence;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RedisBackplaneMetrics _metrics;

    // A fresh producer id per process: with the per-producer sequence it identifies each event, so
    // that a retried batch is appended once and a reader never passes an event on twice.
    private readonly string _producerId = Guid.NewGuid().ToString("N");
    private readonly Channel<IngressItem> _outbound;
    private readonly RedisDoorbell _doorbell;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Broadcaster? _broadcaster;

    // The stream's epoch, which every id carries; set once the reader has read it from Redis.
    private EventIdPrefix? _ids;
    private Task<IConnectionMultiplexer>? _connecting;

    // Kept to be removed again from a shared multiplexer, which outlives this backplane.
    private readonly EventHandler<ConnectionFailedEventArgs> _onRestored;
    private readonly Action<RedisChannel, RedisValue> _onNotified;
    private Task _writer = Task.CompletedTask;
    private Task _reader = Task.CompletedTask;
    private long _nextSequence;
    private long _dropped;
    private long _unreportedDrops;
    private long _unencodable;
    private long _discardedAtStop;
    private long _appended;
    private long _reconnects;

    // Events of the batch the writer is trying to append (0 once appended); only the writer
    // writes it, and DisposeAsync reads it after the writer has ended.
    private int _inFlight;
    private int _disposed;

    // shared: the application's connection, used instead of connecting, and never closed or disposed here.
    public RedisBackplane(RedisBackplaneOptions options, int defaultMaxLength, TimeProvider timeProvider, ILogger logger, IMeterFactory? meterFactory = null, IConnectionMultiplexer? shared = null)
    {
        _doorbell = new RedisDoorbell(options.PollInterval, timeProvider);

        // Read at once after a reconnect instead of at the next poll: entries may have been added
        // while this instance could not hear their notifications.
        _onRestored = (_, _) =>
        {
            Interlocked.Increment(ref _reconnects);
            _doorbell.Ring();
        };
        _onNotified = (_, _) => _doorbell.Ring();
        _shared = shared;
        if (shared is not null)
        {
            // The owner's settings stay as they are (reconnect policy, AbortOnConnectFail).
            _configuration = null;
        }
        else if (options.ConfigurationOptions is { } configured)
        {
            _configuration = configured.Clone();
        }
        else
        {
            _configuration = ConfigurationOptions.Parse(options.ConnectionString!);

            // Come back quickly after an outage; the default backs off for many seconds.
            _configuration.ReconnectRetryPolicy = new LinearRetry(500);
        }

        // Never fail the host because Redis is down: connect in the background and keep trying.
        _configuration?.AbortOnConnectFail = false;
        _stream = options.StreamKey;
        _configKey = $"{options.StreamKey}:config";
        _epochKey = $"{options.StreamKey}:epoch";
        _scriptKeys = [_stream, $"{options.StreamKey}:producer:{_producerId}", _configKey];
        _notify = RedisChannel.Literal($"{options.StreamKey}:notify");
        _maxLength = options.MaxLength ?? defaultMaxLength;
        _outageBufferCapacity = options.OutageBufferCapacity;
        _maxResumeEntries = options.MaxResumeEntries;
        _stopTimeout = options.StopTimeout;
        _presenceInterval = options.PresenceInterval;
        _timeProvider = timeProvider;
        _logger = logger;
        _outbound = Channel.CreateBounded<IngressItem>(
            new BoundedChannelOptions(options.OutageBufferCapacity)
            {
                SingleReader = true,
                SingleWriter = false,

                // Publishing must keep working while Redis is away: the buffer keeps the newest
                // events (the current state of the graph) and counts what it had to let go.
                FullMode = BoundedChannelFullMode.DropOldest,
                AllowSynchronousContinuations = false,
            },
            _ => OnDropped());
        _metrics = new RedisBackplaneMetrics(meterFactory, this);
    }

    /// <summary>Events dropped because the outage buffer was full.</summary>
    public long EventsDropped => Interlocked.Read(ref _dropped);

    /// <summary>Events dropped because they could not be encoded.</summary>
    public long EventsUnencodable => Interlocked.Read(ref _unencodable);

    /// <summary>Events still waiting for Redis when the backplane stopped, discarded.</summary>
    public long EventsDiscardedAtStop => Interlocked.Read(ref _discardedAtStop);

    /// <summary>Times the connection to Redis was restored after a failure.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Events this instance appended to the stream.</summary>
    public long EventsAppended => Interlocked.Read(ref _appended);

    /// <summary>Completes when the reader knows where the stream is and feeds the broadcaster.</summary>
    public Task Started => _started.Task;

    /// <summary>This process's id among the instances (its producer id): the learner's lease and presence name it.</summary>
    public string InstanceId => _producerId;

    /// <summary>Events published here that wait for Redis (the outage buffer).</summary>
    public int OutageBufferCount => _outbound.Reader.Count;

    /// <summary>The stream's length this instance appends with.</summary>
    public int MaxLength => _maxLength;

    /// <summary>The broadcaster this backplane feeds, once attached.</summary>
    public Broadcaster? Broadcaster => Volatile.Read(ref _broadcaster);

    /// <summary>The connection (connecting in the background while Redis is away); once <see cref="Attach"/> was called.</summary>
    public Task<IConnectionMultiplexer> ConnectionAsync() =>
        _connecting ?? throw new InvalidOperationException("The backplane is not attached to a broadcaster yet.");

    public void Attach(Broadcaster broadcaster)
    {
        if (Interlocked.CompareExchange(ref _broadcaster, broadcaster, null) is not null)
        {
            throw new InvalidOperationException("A Redis backplane feeds one broadcaster.");
        }

        if (_shared is { } shared)
        {
            shared.ConnectionRestored += _onRestored;
            _connecting = Task.FromResult(shared);
        }
        else
        {
            _connecting = ConnectAsync();
        }

        _writer = Task.Run(WriteLoopAsync);
        _reader = Task.Run(ReadLoopAsync);

        // connected_clients counts every instance's subscribers; the subscriber limit stays this instance's.
        _presence = new RedisPresence(_connecting, _stream.ToString(), _producerId, _presenceInterval, _timeProvider, _logger, () => broadcaster.SubscriberCount, n => broadcaster.OtherInstancesClients = n);
        _presence.Start();
        broadcaster.IsDegraded = () => _connecting is not { IsCompletedSuccessfully: true } connected || !connected.Result.IsConnected;
    }

    public bool TryPublish(in IngressItem item) => _outbound.Writer.TryWrite(item);

    public ValueTask PublishAsync(IngressItem item, CancellationToken cancellationToken)
    {
        // Never waits: a full buffer drops its oldest event instead (see OutageBufferCapacity).
        ObjectDisposedException.ThrowIf(!_outbound.Writer.TryWrite(item), this);
        return ValueTask.CompletedTask;
    }

    public bool MayHaveIssued(long id) =>
        RedisStreamId.Milliseconds(id) <= _timeProvider.GetUtcNow().Add(FutureTolerance).ToUnixTimeMilliseconds();

    /// <summary>
    /// The epoch of the shared stream: made by the first instance that starts on it (SET NX, so every
    /// instance reads the same one) and kept in <c>&lt;stream&gt;:epoch</c>. A Redis that lost its
    /// data loses it too, and the next start makes a new one: ids from before are then another
    /// log's, and a client resuming from one is told so.
    /// </summary>
    private async Task<string> EpochAsync(IDatabase db)
    {
        var key = _epochKey;
        await db.StringSetAsync(key, GraphEventId.NewEpoch(), when: When.NotExists).ConfigureAwait(false);
        var epoch = (string?)await db.StringGetAsync(key).ConfigureAwait(false);
        if (epoch is null || !GraphEventId.IsEpoch(epoch))
        {
            throw new InvalidOperationException($"The key '{key}' holds '{epoch}', which is not an event log epoch; delete it to make a new one.");
        }

        return epoch;
    }

    public async Task<ReplayPage> FetchAsync(long afterId, long throughId, GraphEventKind mask)
    {
        try
        {
            var db = (await _connecting!.ConfigureAwait(false)).GetDatabase();

            // Newest first and one more than the bound: what a resume may read is bounded by
            // MaxResumeEntries, and when the gap is larger the client keeps its newest part (the
            // current state of the graph) after a loss notice, as a trimmed stream would give it.
            var rangeTask = db.StreamRangeAsync(_stream, "(" + RedisStreamId.Format(afterId), RedisStreamId.Format(throughId), _maxResumeEntries + 1, Order.Descending);
            var oldestTask = db.StreamRangeAsync(_stream, "-", "+", 1);
            var range = await rangeTask.ConfigureAwait(false);
            var oldest = await oldestTask.ConfigureAwait(false);
            var truncated = range.Length > _maxResumeEntries;
            var kept = Math.Min(range.Length, _maxResumeEntries);

            List<GraphEventFrame> frames = new(kept + 1);

            // The stream holds everything after afterId only if its oldest entry is not newer: else
            // entries may have been trimmed (or lost with a Redis that restarted empty), uncounted.
            if (truncated || oldest.Length == 0 || !RedisStreamId.TryEncode(oldest[0].Id.ToString(), out var oldestId) || oldestId > afterId)
            {
                frames.Add(LossFrame());
            }

            for (var i = kept - 1; i >= 0; i--)
            {
                if (TryDecode(range[i], out var id, out var graphEvent, out var contract, out _, out _) && (contract.Kind & mask) != 0)
                {
                    frames.Add(GraphEventFrame.Create(_ids, id, graphEvent, contract));
                }
            }

            // One page: what a resume reads is bounded by MaxResumeEntries already.
            return new ReplayPage([.. frames], throughId);
        }
#pragma warning disable CA1031 // A resuming client must be told it lost events, whatever went wrong.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RedisBackplaneLog.FetchFailed(_logger, afterId, ex);
            return new ReplayPage([LossFrame()], throughId);
        }
    }

    /// <summary>
    /// Appends what is buffered if Redis takes it within <see cref="RedisBackplaneOptions.StopTimeout"/>,
    /// then stops both loops at once; what was not appended is discarded, counted and logged.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _outbound.Writer.TryComplete();

        // Leaves the presence set (at most 1 s) while the writer drains, before the connection closes.
        var leaving = _presence?.DisposeAsync().AsTask() ?? Task.CompletedTask;
        await _writer.WaitAsync(_stopTimeout, _timeProvider).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await leaving.ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);

        // A command waiting for a Redis that is away would hold a loop until its own timeout (5 s
        // by default), past StopTimeout: closing without letting commands complete fails them now.
        var redis = _connecting is { IsCompletedSuccessfully: true } connected ? connected.Result : null;
        if (redis is not null && _shared is null)
        {
            await redis.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        }

        await Task.WhenAll(_writer, _reader).ConfigureAwait(false);

        var discarded = (long)_inFlight;
        while (_outbound.Reader.TryRead(out _))
        {
            discarded++;
        }

        if (discarded > 0)
        {
            Interlocked.Add(ref _discardedAtStop, discarded);
            RedisBackplaneLog.DiscardedAtStop(_logger, discarded, _stopTimeout);
        }

        if (_shared is { } shared)
        {
            // Not ours to close: leave the connection as it was, minus this backplane's handlers.
            shared.ConnectionRestored -= _onRestored;
            try
            {
                await shared.GetSubscriber().UnsubscribeAsync(_notify, _onNotified).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Stopping: Redis may be away; the subscription then went with the connection.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RedisBackplaneLog.UnsubscribeFailed(_logger, ex);
            }
        }
        else if (redis is not null)
        {
            await redis.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            // Still connecting (Redis was down all along): dispose the connection when it comes.
            _ = _connecting?.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }

        _metrics.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// For a container disposed synchronously (<c>ServiceProvider.Dispose</c>), which otherwise
    /// refuses a service that is only asynchronously disposable. Nothing here needs a
    /// synchronization context (every await is <c>ConfigureAwait(false)</c>), so blocking is safe.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private GraphEventFrame LossFrame() =>
        GraphEventFrame.Create(new EventsLostEvent(EventsLostReasons.ReplayWindowExceeded, null, _timeProvider.GetUtcNow()));

    private void OnDropped()
    {
        var dropped = Interlocked.Increment(ref _dropped);
        Interlocked.Increment(ref _unreportedDrops);

        // Once per thousand, so a long outage does not flood the log.
        if (dropped % 1000 == 1)
        {
            RedisBackplaneLog.Dropped(_logger, _outageBufferCapacity, dropped);
        }
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(_configuration!).ConfigureAwait(false);
        redis.ConnectionRestored += _onRestored;
        return redis;
    }

    private async Task WriteLoopAsync()
    {
        var token = _stopping.Token;
        var reader = _outbound.Reader;
        List<RedisValue> args = new(4 + (3 * (WriteBatchSize + 1)));
        var failing = false;
        try
        {
            var db = (await _connecting!.WaitAsync(token).ConfigureAwait(false)).GetDatabase();

            // Nothing is appended before the reader knows where it starts: it starts after the
            // newest entry, so an entry appended before it looked would be behind it, and this
            // host's own subscribers would never receive it. Until then (Redis down at start,
            // say) publishes wait in the outage buffer like in any outage.
            await _started.Task.WaitAsync(token).ConfigureAwait(false);
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                var count = BuildBatch(reader, args, out var lossNotice);
                if (args.Count == 4)
                {
                    continue;
                }

                _inFlight = count;
                var values = args.ToArray();
                while (true)
                {
                    try
                    {
                        await db.ScriptEvaluateAsync(RedisAppendScript.Source, _scriptKeys, values).ConfigureAwait(false);
                        _inFlight = 0;
                        Interlocked.Add(ref _appended, count);
                        if (failing)
                        {
                            failing = false;
                            RedisBackplaneLog.Recovered(_logger, "append to the stream");
                        }

                        if (lossNotice > 0)
                        {
                            RedisBackplaneLog.LossNoticeAppended(_logger, lossNotice);
                        }

                        break;
                    }
#pragma warning disable CA1031 // Redis away or anything else: this loop is this host's only way to the stream, so it retries.
                    catch (Exception ex) when (!token.IsCancellationRequested)
#pragma warning restore CA1031
                    {
                        if (!failing)
                        {
                            failing = true;
                            RedisBackplaneLog.Unavailable(_logger, "append to the stream", ex);
                        }

                        await Task.Delay(RetryDelay, _timeProvider, token).ConfigureAwait(false);
                    }
                }
            }
        }
#pragma warning disable CA1031 // Stopping: the batch in flight failed with the closed connection; DisposeAsync counts it.
        catch (Exception) when (token.IsCancellationRequested)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>
    /// Fills <paramref name="args"/> with the script's fixed arguments and up to a batch of
    /// events, preceded by a loss notice when the outage buffer dropped events since the last one.
    /// </summary>
    /// <returns>The number of events (the notice not included).</returns>
    private int BuildBatch(ChannelReader<IngressItem> reader, List<RedisValue> args, out long lossNotice)
    {
        args.Clear();
        args.Add(_maxLength);
        args.Add(_producerId);
        args.Add(_notify.ToString());
        args.Add((long)ProducerLifetime.TotalSeconds);

        // What the buffer dropped was older than what it still holds and newer than what the
        // writer took before: the notice goes first in this batch, exactly where the gap is. Taken
        // once; the batch carrying it is retried until appended, so it is never lost.
        lossNotice = Interlocked.Exchange(ref _unreportedDrops, 0);
        if (lossNotice > 0)
        {
            var notice = new EventsLostEvent(EventsLostReasons.BufferOverflow, lossNotice, _timeProvider.GetUtcNow());
            args.Add(++_nextSequence);
            args.Add(notice.EventType);
            args.Add(GraphEventJson.SerializeToUtf8Bytes(notice));
        }

        var count = 0;
        while (count < WriteBatchSize && reader.TryRead(out var item))
        {
            var graphEvent = item.Event;

            // A host's type was encoded at publish already (that is how it was measured).
            byte[] data;
            try
            {
                data = item.Data ?? GraphEventJson.SerializeToUtf8Bytes(graphEvent, item.Contract);
            }
#pragma warning disable CA1031 // One event that cannot be encoded must not stop this host's only way to the stream.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var unencodable = Interlocked.Increment(ref _unencodable);
                if (unencodable % 1000 == 1)
                {
                    RedisBackplaneLog.Unencodable(_logger, graphEvent.EventType, unencodable, ex);
                }

                continue;
            }

            // The sequence is fixed once per event, so a retry of this batch resends the same
            // sequences and the script appends each event at most once.
            // The contract's name, checked at registration, never text from the event.
            args.Add(++_nextSequence);
            args.Add(item.Contract.Name);
            args.Add(data);
            count++;
        }

        return count;
    }

    private async Task ReadLoopAsync()
    {
        var token = _stopping.Token;
        var broadcaster = _broadcaster!;
        RedisValue? cursor = null;
        var failing = false;
        var subscribed = false;

        // Each producer's last sequence passed on: after Redis lost its data and a producer's
        // retried batch was appended again, the copy is not delivered a second time. Producers
        // not heard from for ProducerLifetime are forgotten, so process starts do not pile up.
        Dictionary<string, ProducerMark> producers = new(StringComparer.Ordinal);
        var lastPrune = _timeProvider.GetTimestamp();

        // How many entries were ever added up to the cursor (Redis 7's entries-added): with the
        // stream's own count, it tells entries trimmed before this reader got to them.
        long seen = 0;

        // The units of a read appended in a span (only while a listener takes this source).
        List<(ActivityContext Context, RedisValue EntryId)>? tracedUnits = null;
        try
        {
            var redis = await _connecting!.WaitAsync(token).ConfigureAwait(false);
            var db = redis.GetDatabase();
            while (!token.IsCancellationRequested)
            {
                try
                {
                    if (!subscribed)
                    {
                        // Once: a retry after a failure below must not add a second handler.
                        await redis.GetSubscriber().SubscribeAsync(_notify, _onNotified).ConfigureAwait(false);
                        subscribed = true;
                    }

                    if (cursor is null)
                    {
                        await CheckMaxLengthAsync(db).ConfigureAwait(false);

                        // Start after the newest entry: older ones were broadcast before this
                        // instance existed; a client that resumes from one is served by FetchAsync.
                        // This instance's writer waits for this (see WriteLoopAsync), so its own
                        // events are all after it.
                        // With the count of entries ever added then (one transaction): entries
                        // added later and trimmed before this reader got to them are counted.
                        var start = db.CreateTransaction();
                        var newestRead = start.StreamRangeAsync(_stream, "-", "+", 1, Order.Descending);
                        var startInfo = start.ExecuteAsync("XINFO", "STREAM", _stream);
                        await start.ExecuteAsync().ConfigureAwait(false);
                        var newest = await newestRead.ConfigureAwait(false);
                        seen = (await RedisStreamLength.ReadAsync(startInfo).ConfigureAwait(false)).Added ?? 0;
                        long startId = 0;
                        if (newest.Length > 0 && !RedisStreamId.TryEncode(newest[0].Id.ToString(), out startId))
                        {
                            throw new InvalidOperationException($"The stream '{_stream}' holds id {newest[0].Id}, which does not fit a 64-bit event id.");
                        }

                        cursor = newest.Length > 0 ? newest[0].Id : (RedisValue)"0-0";
                        var epoch = await EpochAsync(db).ConfigureAwait(false);
                        _ids = new EventIdPrefix(epoch);
                        broadcaster.StartSequenceAfter(epoch, startId);
                        RedisBackplaneLog.Started(_logger, _stream.ToString(), cursor.Value.ToString());
                        _started.TrySetResult();
                    }
                    else
                    {
                        await _doorbell.WaitAsync(token).ConfigureAwait(false);
                    }

                    bool more;
                    do
                    {
                        // The epoch is read with every read (pipelined: one round trip): a Redis that
                        // restarted without its data has a new stream whose entries must never be
                        // passed on under the old log's epoch.
                        // With it, in the same transaction, where the stream stands (its length, its
                        // oldest entry, the entries ever added), to tell a gap from trimming.
                        var readStart = RedisClusterTracing.Source.HasListeners() ? _timeProvider.GetUtcNow() : default;
                        tracedUnits?.Clear(); // what a failed read left
                        var read = db.CreateTransaction();
                        var epochRead = read.StringGetAsync(_epochKey);
                        var infoRead = read.ExecuteAsync("XINFO", "STREAM", _stream);
                        var entriesRead = read.StreamReadAsync(_stream, cursor.Value, ReadBatchSize);
                        await read.ExecuteAsync().ConfigureAwait(false);
                        var entries = await entriesRead.ConfigureAwait(false);
                        var stream = await RedisStreamLength.ReadAsync(infoRead).ConfigureAwait(false);
                        if (!string.Equals((string?)await epochRead.ConfigureAwait(false), _ids!.Epoch, StringComparison.Ordinal))
                        {
                            var epoch = await EpochAsync(db).ConfigureAwait(false);
                            RedisBackplaneLog.NewEpoch(_logger, _stream.ToString(), _ids.Epoch, epoch);
                            _ids = new EventIdPrefix(epoch);
                            producers.Clear();
                            cursor = "0-0";
                            seen = 0;

                            // Every client is told; ids from now on carry the new epoch. Then the new
                            // stream is read from its beginning (what was read with the old epoch is dropped).
                            await broadcaster.ResetSharedLogAsync(epoch, token).ConfigureAwait(false);
                            more = true;
                            continue;
                        }

                        // Trimming removes the oldest entries. When even the oldest one left is after
                        // the cursor, every entry left is unread, and the ones added since the cursor
                        // that are not among them were trimmed before this reader got to them: its
                        // clients are told how many, right where the hole is.
                        if (stream.Added is { } added && stream.FirstId is { } first && RedisStreamId.TryEncode(cursor.Value.ToString(), out var at) && first > at
                            && added - seen > stream.Length)
                        {
                            var lost = added - seen - stream.Length;
                            seen += lost;
                            RedisBackplaneLog.FellBehind(_logger, _stream.ToString(), lost, _maxLength);
                            await broadcaster.ReportSharedLogGapAsync(lost, token).ConfigureAwait(false);
                        }

                        seen += entries.Length;
                        var now = _timeProvider.GetTimestamp();
                        var nowMs = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
                        foreach (var entry in entries)
                        {
                            cursor = entry.Id;
                            if (readStart != default && RedisClusterTracing.TryReadContext(entry, out var appendedIn))
                            {
                                // The first event of a unit appended in a span: this read continues its trace.
                                (tracedUnits ??= []).Add((appendedIn, entry.Id));
                            }

                            if (!TryDecode(entry, out var id, out var graphEvent, out var contract, out var producer, out var sequence))
                            {
                                continue;
                            }

                            if (producer is not null)
                            {
                                if (producers.TryGetValue(producer, out var last) && sequence <= last.Sequence)
                                {
                                    continue;
                                }

                                producers[producer] = new ProducerMark(sequence, now);
                            }

                            _metrics.RecordReadLag(nowMs - RedisStreamId.Milliseconds(id));

                            // A loss notice goes the same way as an event: numbered with its stream
                            // id, kept in the replay ring, delivered to every subscriber (events_lost
                            // passes every filter) and replayed to a resume across the gap.
                            await broadcaster.WriteSequencedAsync(id, graphEvent, contract, token).ConfigureAwait(false);
                        }

                        if (tracedUnits is { Count: > 0 })
                        {
                            ReadSpans(tracedUnits, readStart, entries.Length);
                        }

                        more = entries.Length == ReadBatchSize;
                    }
                    while (more);

                    if (_timeProvider.GetElapsedTime(lastPrune) > TimeSpan.FromHours(1))
                    {
                        lastPrune = _timeProvider.GetTimestamp();
                        PruneProducers(producers, lastPrune);
                    }

                    if (failing)
                    {
                        failing = false;
                        RedisBackplaneLog.Recovered(_logger, "read the stream");
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not ChannelClosedException && !token.IsCancellationRequested)
                {
                    // Whatever went wrong (Redis away, or something unexpected in the stream), this
                    // loop is the only way events reach this host's clients: log it, wait, go on.
                    if (!failing)
                    {
                        failing = true;
                        RedisBackplaneLog.Unavailable(_logger, "read the stream", ex);
                    }

                    await Task.Delay(RetryDelay, _timeProvider, token).ConfigureAwait(false);
                }
            }
        }
        catch (ChannelClosedException)
        {
            // The broadcaster was disposed: nothing left to feed.
        }
#pragma warning disable CA1031 // Stopping: a read failed with the closed connection.
        catch (Exception) when (token.IsCancellationRequested)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>
    /// Records one <see cref="RedisClusterTracing.EventsRead"/> span per unit of a read that was
    /// appended in a span, as its child: from the read's start to every event of the read handed
    /// to the broadcaster. Made after the fact, with the times recorded, so that none is current
    /// while the loop goes on.
    /// </summary>
    private void ReadSpans(List<(ActivityContext Context, RedisValue EntryId)> units, DateTimeOffset start, int entries)
    {
        var end = _timeProvider.GetUtcNow();
        foreach (var (context, entryId) in units)
        {
            using var activity = RedisClusterTracing.Source.CreateActivity(RedisClusterTracing.EventsRead, ActivityKind.Consumer, context);
            if (activity is null)
            {
                continue;
            }

            activity.SetStartTime(start.UtcDateTime);
            activity.SetTag(RedisClusterTracing.EntriesTag, entries);
            activity.SetTag(RedisClusterTracing.StreamIdTag, entryId.ToString());
            activity.Start();
            activity.SetEndTime(end.UtcDateTime);
            activity.Stop();
        }

        units.Clear();
    }

    /// <summary>
    /// Stores this instance's length for the stream unless one is stored, and warns when the stored
    /// one differs: the append script trims to the stored one, so one instance's setting cannot
    /// trim the stream for all. A warning, not a refusal: a rolling change of the setting must not
    /// stop the instances that already have the new one.
    /// </summary>
    private async Task CheckMaxLengthAsync(IDatabase db)
    {
        await db.HashSetAsync(_configKey, RedisAppendScript.MaxLengthField, _maxLength, When.NotExists).ConfigureAwait(false);
        var stored = await db.HashGetAsync(_configKey, RedisAppendScript.MaxLengthField).ConfigureAwait(false);
        if (!stored.TryParse(out long storedLength) || storedLength != _maxLength)
        {
            RedisBackplaneLog.MaxLengthDiffers(_logger, _stream.ToString(), stored.ToString(), _configKey.ToString(), _maxLength);
        }
    }

    private void PruneProducers(Dictionary<string, ProducerMark> producers, long now)
    {
        foreach (var (producer, mark) in producers)
        {
            if (_timeProvider.GetElapsedTime(mark.SeenAt, now) > ProducerLifetime)
            {
                producers.Remove(producer);
            }
        }
    }

    private bool TryDecode(
        StreamEntry entry,
        out long id,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GraphEvent? graphEvent,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GraphEventContract? contract,
        out string? producer,
        out long sequence)
    {
        graphEvent = null;
        contract = null;
        producer = null;
        sequence = 0;
        var streamId = entry.Id.ToString();
        if (!RedisStreamId.TryEncode(streamId, out id))
        {
            RedisBackplaneLog.SkippedEntry(_logger, streamId, "its id does not fit a 64-bit event id");
            return false;
        }

        var (type, data, from, sequenceField, _, _) = RedisEventEntry.Read(entry);
        producer = from;
        if (!sequenceField.IsNull && !sequenceField.TryParse(out sequence))
        {
            RedisBackplaneLog.SkippedEntry(_logger, streamId, "its sequence is not a number");
            return false;
        }

        if (type is null || data is null)
        {
            RedisBackplaneLog.SkippedEntry(_logger, streamId, "it has no event type or data");
            return false;
        }

        try
        {
            // events_lost is never published, but a producer's own loss notice (see BuildBatch) is
            // carried like an event; from anyone else it is skipped like any unknown entry.
            // A host's types are read with the registry of the broadcaster this backplane feeds: the
            // same types every host of the service registers.
            if (type == GraphEventTypes.EventsLost && producer is not null)
            {
                graphEvent = GraphEventJson.Deserialize(type, data) as EventsLostEvent;
                contract = BuiltInEventContracts.EventsLost;
            }
            else
            {
                graphEvent = GraphEventJson.DeserializeBroadcast(type, data, _broadcaster!.CustomEventTypes, out contract);
            }
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            // Handled below: an entry this version cannot read is skipped, never fatal.
        }

        if (graphEvent is null || contract is null)
        {
            RedisBackplaneLog.SkippedEntry(_logger, streamId, $"'{GraphEventTypeRegistry.Printable(type)}' is not a broadcast event type known here (registered on every host?), or its data does not fit it");
            return false;
        }

        return true;
    }

    /// <summary>A producer's last sequence passed on, and when (a timestamp of the time provider).</summary>
    private readonly record struct ProducerMark(long Sequence, long SeenAt);
}
