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
internal sealed class RedisBackplane : IGraphEventBackplane, IAsyncDisposable
{
    private const int WriteBatchSize = 256;
    private const int ReadBatchSize = 512;
    private const int MaxFetch = 1_000_000;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan FlushOnDisposeTimeout = TimeSpan.FromSeconds(2);

    // How far ahead of this host's clock a resume id may be and still be taken for an id Redis
    // issued that this host has not read yet (clock skew between Redis and the hosts).
    private static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(1);

    private readonly ConfigurationOptions _configuration;
    private readonly RedisKey _stream;
    private readonly RedisKey[] _scriptKeys;
    private readonly RedisChannel _notify;
    private readonly int _maxLength;
    private readonly int _outageBufferCapacity;
    private readonly TimeSpan _pollInterval;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    // A fresh producer id per process: with the per-producer sequence it identifies each event, so
    // that a retried batch is appended once and a reader never passes an event on twice.
    private readonly string _producerId = Guid.NewGuid().ToString("N");
    private readonly Channel<GraphEvent> _outbound;
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Broadcaster? _broadcaster;
    private Task<ConnectionMultiplexer>? _connecting;
    private Task _writer = Task.CompletedTask;
    private Task _reader = Task.CompletedTask;
    private long _nextSequence;
    private long _dropped;
    private long _appended;
    private int _disposed;

    public RedisBackplane(RedisBackplaneOptions options, int defaultMaxLength, TimeProvider timeProvider, ILogger logger)
    {
        if (options.ConfigurationOptions is { } configured)
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
        _configuration.AbortOnConnectFail = false;
        _stream = options.StreamKey;
        _scriptKeys = [_stream, $"{options.StreamKey}:producers"];
        _notify = RedisChannel.Literal($"{options.StreamKey}:notify");
        _maxLength = options.MaxLength ?? defaultMaxLength;
        _outageBufferCapacity = options.OutageBufferCapacity;
        _pollInterval = options.PollInterval;
        _timeProvider = timeProvider;
        _logger = logger;
        _outbound = Channel.CreateBounded<GraphEvent>(
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
    }

    /// <summary>Events dropped because the outage buffer was full.</summary>
    public long EventsDropped => Interlocked.Read(ref _dropped);

    /// <summary>Events this instance appended to the stream.</summary>
    public long EventsAppended => Interlocked.Read(ref _appended);

    /// <summary>Completes when the reader knows where the stream is and feeds the broadcaster.</summary>
    public Task Started => _started.Task;

    public void Attach(Broadcaster broadcaster)
    {
        if (Interlocked.CompareExchange(ref _broadcaster, broadcaster, null) is not null)
        {
            throw new InvalidOperationException("A Redis backplane feeds one broadcaster.");
        }

        _connecting = ConnectAsync();
        _writer = Task.Run(WriteLoopAsync);
        _reader = Task.Run(ReadLoopAsync);
    }

    public bool TryPublish(GraphEvent graphEvent) => _outbound.Writer.TryWrite(graphEvent);

    public ValueTask PublishAsync(GraphEvent graphEvent, CancellationToken cancellationToken)
    {
        // Never waits: a full buffer drops its oldest event instead (see OutageBufferCapacity).
        ObjectDisposedException.ThrowIf(!_outbound.Writer.TryWrite(graphEvent), this);
        return ValueTask.CompletedTask;
    }

    public bool MayHaveIssued(long id) =>
        RedisStreamId.Milliseconds(id) <= _timeProvider.GetUtcNow().Add(FutureTolerance).ToUnixTimeMilliseconds();

    public async Task<GraphEventFrame[]> FetchAsync(long afterId, long throughId, GraphEventKind mask)
    {
        try
        {
            var db = (await _connecting!.ConfigureAwait(false)).GetDatabase();
            var rangeTask = db.StreamRangeAsync(_stream, "(" + RedisStreamId.Format(afterId), RedisStreamId.Format(throughId), MaxFetch);
            var oldestTask = db.StreamRangeAsync(_stream, "-", "+", 1);
            var range = await rangeTask.ConfigureAwait(false);
            var oldest = await oldestTask.ConfigureAwait(false);

            List<GraphEventFrame> frames = new(range.Length + 1);

            // The stream holds everything after afterId only if its oldest entry is not newer: else
            // entries may have been trimmed (or lost with a Redis that restarted empty), uncounted.
            if (oldest.Length == 0 || !RedisStreamId.TryEncode(oldest[0].Id.ToString(), out var oldestId) || oldestId > afterId)
            {
                frames.Add(LossFrame());
            }

            foreach (var entry in range)
            {
                if (TryDecode(entry, out var id, out var graphEvent, out _, out _) && (graphEvent.Kind & mask) != 0)
                {
                    frames.Add(SseFrameEncoder.CreateFrame(id, graphEvent));
                }
            }

            return [.. frames];
        }
#pragma warning disable CA1031 // A resuming client must be told it lost events, whatever went wrong.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RedisBackplaneLog.FetchFailed(_logger, afterId, ex);
            return [LossFrame()];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Append what was published before shutdown if Redis answers soon, then stop both loops.
        _outbound.Writer.TryComplete();
        try
        {
            await _writer.WaitAsync(FlushOnDisposeTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_writer, _reader).ConfigureAwait(false);
        if (_connecting is not null)
        {
            await (await _connecting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private GraphEventFrame LossFrame() =>
        SseFrameEncoder.CreateFrame(null, new EventsLostEvent(EventsLostReasons.ReplayWindowExceeded, null, _timeProvider.GetUtcNow()));

    private void OnDropped()
    {
        var dropped = Interlocked.Increment(ref _dropped);

        // Once per thousand, so a long outage does not flood the log.
        if (dropped % 1000 == 1)
        {
            RedisBackplaneLog.Dropped(_logger, _outageBufferCapacity, dropped);
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);

        // Read at once after a reconnect instead of at the next poll: entries may have been added
        // while this instance could not hear their notifications.
        redis.ConnectionRestored += (_, _) => _doorbell.Writer.TryWrite(true);
        return redis;
    }

    private async Task WriteLoopAsync()
    {
        var token = _stopping.Token;
        var redis = await _connecting!.ConfigureAwait(false);
        var db = redis.GetDatabase();
        var reader = _outbound.Reader;
        List<RedisValue> args = new(3 + (3 * WriteBatchSize));
        var failing = false;
        try
        {
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                args.Clear();
                args.Add(_maxLength);
                args.Add(_producerId);
                args.Add(_notify.ToString());
                var count = 0;
                while (count < WriteBatchSize && reader.TryRead(out var graphEvent))
                {
                    // The sequence is fixed once per event, so a retry of this batch resends the
                    // same sequences and the script appends each event at most once.
                    args.Add(++_nextSequence);
                    args.Add(graphEvent.EventType);
                    args.Add(GraphEventJson.SerializeToUtf8Bytes(graphEvent));
                    count++;
                }

                var values = args.ToArray();
                while (true)
                {
                    try
                    {
                        await db.ScriptEvaluateAsync(RedisAppendScript.Source, _scriptKeys, values).ConfigureAwait(false);
                        Interlocked.Add(ref _appended, count);
                        if (failing)
                        {
                            failing = false;
                            RedisBackplaneLog.Recovered(_logger, "append to the stream");
                        }

                        break;
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
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
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private async Task ReadLoopAsync()
    {
        var token = _stopping.Token;
        var broadcaster = _broadcaster!;
        var redis = await _connecting!.ConfigureAwait(false);
        var db = redis.GetDatabase();
        RedisValue? cursor = null;
        Task<bool>? doorbell = null;
        var failing = false;
        var subscribed = false;

        // Each producer's last sequence passed on: after Redis lost its data and a producer's
        // retried batch was appended again, the copy is not delivered a second time.
        Dictionary<string, long> producers = new(StringComparer.Ordinal);
        try
        {
            while (!token.IsCancellationRequested)
            {
                try
                {
                    if (!subscribed)
                    {
                        // Once: a retry after a failure below must not add a second handler.
                        await redis.GetSubscriber().SubscribeAsync(_notify, (_, _) => _doorbell.Writer.TryWrite(true)).ConfigureAwait(false);
                        subscribed = true;
                    }

                    if (cursor is null)
                    {

                        // Start after the newest entry: older ones were broadcast before this
                        // instance existed; a client that resumes from one is served by FetchAsync.
                        var newest = await db.StreamRangeAsync(_stream, "-", "+", 1, Order.Descending).ConfigureAwait(false);
                        long startId = 0;
                        if (newest.Length > 0 && !RedisStreamId.TryEncode(newest[0].Id.ToString(), out startId))
                        {
                            throw new InvalidOperationException($"The stream '{_stream}' holds id {newest[0].Id}, which does not fit a 64-bit event id.");
                        }

                        cursor = newest.Length > 0 ? newest[0].Id : (RedisValue)"0-0";
                        broadcaster.StartSequenceAfter(startId);
                        RedisBackplaneLog.Started(_logger, _stream.ToString(), cursor.Value.ToString());
                        _started.TrySetResult();
                    }
                    else
                    {
                        doorbell = await WaitForDoorbellAsync(doorbell, token).ConfigureAwait(false);
                    }

                    StreamEntry[] entries;
                    do
                    {
                        entries = await db.StreamReadAsync(_stream, cursor.Value, ReadBatchSize).ConfigureAwait(false);
                        foreach (var entry in entries)
                        {
                            cursor = entry.Id;
                            if (!TryDecode(entry, out var id, out var graphEvent, out var producer, out var sequence))
                            {
                                continue;
                            }

                            if (producer is not null)
                            {
                                if (producers.TryGetValue(producer, out var last) && sequence <= last)
                                {
                                    continue;
                                }

                                producers[producer] = sequence;
                            }

                            await broadcaster.WriteSequencedAsync(id, graphEvent, token).ConfigureAwait(false);
                        }
                    }
                    while (entries.Length == ReadBatchSize);

                    if (failing)
                    {
                        failing = false;
                        RedisBackplaneLog.Recovered(_logger, "read the stream");
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not ChannelClosedException)
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
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (ChannelClosedException)
        {
            // The broadcaster was disposed: nothing left to feed.
        }
    }

    /// <summary>
    /// Waits for a notification or the poll interval. The pending wait is carried over, so a quiet
    /// stream does not pile up one channel waiter per poll.
    /// </summary>
    private async Task<Task<bool>?> WaitForDoorbellAsync(Task<bool>? pending, CancellationToken token)
    {
        var doorbell = _doorbell.Reader;
        if (doorbell.TryRead(out _))
        {
            return pending;
        }

        pending ??= doorbell.WaitToReadAsync(token).AsTask();
        var delay = Task.Delay(_pollInterval, _timeProvider, token);
        if (await Task.WhenAny(pending, delay).ConfigureAwait(false) == pending)
        {
            await pending.ConfigureAwait(false);
            doorbell.TryRead(out _);
            return null;
        }

        token.ThrowIfCancellationRequested();
        return pending;
    }

    private bool TryDecode(StreamEntry entry, out long id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GraphEvent? graphEvent, out string? producer, out long sequence)
    {
        graphEvent = null;
        producer = null;
        sequence = 0;
        var streamId = entry.Id.ToString();
        if (!RedisStreamId.TryEncode(streamId, out id))
        {
            RedisBackplaneLog.SkippedEntry(_logger, streamId, "its id does not fit a 64-bit event id");
            return false;
        }

        string? type = null;
        byte[]? data = null;
        foreach (var field in entry.Values)
        {
            switch ((string?)field.Name)
            {
                case "t":
                    type = field.Value;
                    break;
                case "d":
                    data = field.Value;
                    break;
                case "p":
                    producer = field.Value;
                    break;
                case "s":
                    if (!field.Value.TryParse(out sequence))
                    {
                        RedisBackplaneLog.SkippedEntry(_logger, streamId, "its sequence is not a number");
                        return false;
                    }

                    break;
            }
        }

        if (type is null || data is null)
        {
            RedisBackplaneLog.SkippedEntry(_logger, streamId, "it has no event type or data");
            return false;
        }

        try
        {
            graphEvent = GraphEventJson.DeserializeBroadcast(type, data);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            // Handled below: an entry this version cannot read is skipped, never fatal.
        }

        if (graphEvent is null)
        {
            RedisBackplaneLog.SkippedEntry(_logger, streamId, $"'{type}' is not a broadcast event type, or its data does not fit it");
            return false;
        }

        return true;
    }
}
