using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// One instance of a graph shared on Redis (DESIGN §7): its replica (<see cref="RedisGraphReplica"/>),
/// its turn at learning when it holds the lease (<see cref="RedisGraphLearner"/>), and the executions
/// log its ingest appends to. Started once the host has started (so the host's own start-up, such as
/// registering its catalog, has run on the empty graph first, as on every instance), stopped before
/// the backplane, giving the lease up.
/// </summary>
internal sealed class RedisGraphCluster : IRedisCluster, IAsyncDisposable
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(1);

    private readonly RedisBackplane _backplane;
    private readonly RedisClusterKeys _keys;
    private readonly TimeProvider _timeProvider;
    private readonly int _windowCount;
    private readonly TimeSpan _windowAge;
    private readonly int _maxPending;
    private readonly CancellationTokenSource _stopping = new();
    private readonly RedisClusterMetrics _metrics;
    private readonly Action<RedisChannel, RedisValue> _onEvents;
    private readonly Action<RedisChannel, RedisValue> _onExecutions;
    private readonly EventHandler<ConnectionFailedEventArgs> _onRestored;
    private Task _replicaLoop = Task.CompletedTask;
    private Task _learnerLoop = Task.CompletedTask;
    private RedisExecutionLog? _executionLog;
    private IConnectionMultiplexer? _redis;
    private int _started;

    public RedisGraphCluster(RedisBackplane backplane, IToolGraphEngine engine, RedisBackplaneOptions options, ToolGraphEngineOptions engineOptions, TimeProvider timeProvider, ILoggerFactory loggers, IMeterFactory? meterFactory = null)
    {
        Engine = engine as ToolGraphEngineCore
            ?? throw new InvalidOperationException("A learner on Redis needs this library's tool graph engine (AddToolGraphEngine()).");
        _backplane = backplane;
        _keys = new RedisClusterKeys(options.StreamKey);
        _timeProvider = timeProvider;
        _windowCount = engineOptions.DuplicateWindowCount;
        _windowAge = engineOptions.DuplicateWindowAge;
        _maxPending = options.MaxPendingExecutions;
        if (options.SnapshotInterval(backplane.MaxLength) > backplane.MaxLength / 2 && backplane.MaxLength > 1)
        {
            throw new InvalidOperationException(
                $"{RedisBackplaneOptions.SectionName}:{nameof(RedisBackplaneOptions.SnapshotEveryEvents)} ({options.SnapshotInterval(backplane.MaxLength):N0}) must be at most half of the stream's length ({backplane.MaxLength:N0}, "
                + $"{RedisBackplaneOptions.SectionName}:{nameof(RedisBackplaneOptions.MaxLength)} or GraphEvents:ReplayCapacity), so that the events after a snapshot are still in the stream.");
        }

        Replica = new RedisGraphReplica(Engine, _keys, options.PollInterval, timeProvider, loggers.CreateLogger<RedisGraphReplica>());
        Learner = new RedisGraphLearner(Engine, Replica, _keys, backplane.InstanceId, options, backplane.MaxLength, timeProvider, loggers.CreateLogger<RedisGraphLearner>());
        _metrics = new RedisClusterMetrics(meterFactory, this);
        _onEvents = (_, _) => Replica.Ring();
        _onExecutions = (_, _) => Learner.Ring();
        _onRestored = (_, _) =>
        {
            // Notifications sent while the connection was down are lost: read now.
            Replica.Ring();
            Learner.Ring();
        };
    }

    public ToolGraphEngineCore Engine { get; }

    public RedisGraphReplica Replica { get; }

    public RedisGraphLearner Learner { get; }

    public string InstanceId => _backplane.InstanceId;

    /// <summary>
    /// Whether the connection to Redis is up now. While it is down, StackExchange.Redis would hold a
    /// command until its timeout (5 s by default) waiting for a reconnect; callers that must answer
    /// quickly (ingest, status) ask this first and fail at once instead.
    /// </summary>
    public bool RedisConnected => _backplane.ConnectionAsync() is { IsCompletedSuccessfully: true } connecting && connecting.Result.IsConnected;

    /// <summary>
    /// Loads the learner's latest snapshot, so that this instance serves the shared graph from its
    /// first request. Called during the host's start-up, before the host's own start-up code (which
    /// then finds its tools already there); the units after it are folded once the host has started.
    /// </summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var redis = await _backplane.ConnectionAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        await Replica.LoadAsync(redis.GetDatabase(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts the replica's fold and the learner; once.</summary>
    public async Task StartAsync()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        var redis = await _backplane.ConnectionAsync().ConfigureAwait(false);
        _redis = redis;
        redis.ConnectionRestored += _onRestored;
        var subscriber = redis.GetSubscriber();
        try
        {
            await subscriber.SubscribeAsync(_keys.EventsNotify, _onEvents).ConfigureAwait(false);
            await subscriber.SubscribeAsync(_keys.ExecutionsNotify, _onExecutions).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis away at start: the multiplexer subscribes again when it reconnects, and the
            // loops poll meanwhile.
        }

        var token = _stopping.Token;
        _replicaLoop = Task.Run(() => Replica.RunAsync(redis, token), CancellationToken.None);
        _learnerLoop = Task.Run(() => Learner.RunAsync(redis, token), CancellationToken.None);
    }

    /// <summary>The executions log, once connected.</summary>
    public async Task<RedisExecutionLog> ExecutionLogAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _executionLog) is { } log)
        {
            return log;
        }

        var redis = await _backplane.ConnectionAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        log = new RedisExecutionLog(redis.GetDatabase(), _keys.Stream.ToString(), _windowCount, _windowAge, _maxPending);
        Interlocked.CompareExchange(ref _executionLog, log, null);
        return _executionLog!;
    }

    public async Task<RedisClusterStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var broadcaster = _backplane.Broadcaster;
        var clients = broadcaster is null ? 0 : broadcaster.SubscriberCount + broadcaster.OtherInstancesClients;
        var reachable = false;
        string? learner = null;
        long? lag = null;
        try
        {
            if (!RedisConnected)
            {
                return new RedisClusterStatus(InstanceId, false, null, Learner.IsLearner, null, _backplane.OutageBufferCount, clients, Engine.Snapshot.AsOfEventId);
            }

            var redis = await _backplane.ConnectionAsync().WaitAsync(StatusTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            var db = redis.GetDatabase();
            var batch = db.CreateBatch();
            var ping = batch.PingAsync();
            var holder = batch.StringGetAsync(_keys.Lease);
            var counts = batch.StringGetAsync([_keys.AppendedCount, _keys.LearnedCount]);
            batch.Execute();
            await Task.WhenAll(ping, holder, counts).WaitAsync(StatusTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            reachable = true;
            var value = (string?)holder.Result;
            var colon = value?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            learner = colon > 0 ? value![(colon + 1)..] : null;
            counts.Result[0].TryParse(out long appended);
            counts.Result[1].TryParse(out long learned);
            lag = Math.Max(0, appended - learned);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Unreachable: reported as such.
        }

        return new RedisClusterStatus(InstanceId, reachable, learner, Learner.IsLearner, lag, _backplane.OutageBufferCount, clients, Engine.Snapshot.AsOfEventId);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_replicaLoop, _learnerLoop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_redis is { } redis)
        {
            redis.ConnectionRestored -= _onRestored;
            try
            {
                var subscriber = redis.GetSubscriber();
                await subscriber.UnsubscribeAsync(_keys.EventsNotify, _onEvents).ConfigureAwait(false);
                await subscriber.UnsubscribeAsync(_keys.ExecutionsNotify, _onExecutions).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                // Stopping with Redis away: the subscriptions went with the connection.
            }
        }

        _metrics.Dispose();
        _stopping.Dispose();
    }
}
