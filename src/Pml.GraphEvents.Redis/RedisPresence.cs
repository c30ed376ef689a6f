using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Presence (issue 15): how many subscribers the whole cluster has, for the <c>connected_clients</c>
/// of the <c>connected</c> and <c>heartbeat</c> events. Every interval each instance writes its own
/// subscriber count to Redis with an expiry and reads the sum of the other live instances' counts,
/// in one Lua script. An instance that stops cleanly deletes its count; one that dies stops
/// renewing it and drops out when it expires (3 intervals). Only a count for display: the
/// subscriber limit stays per instance.
/// </summary>
/// <remarks>
/// Keys (Redis 7.0 has no per-field hash expiry, so one string per instance carries the expiry):
/// <c>&lt;stream&gt;:presence:&lt;instance id&gt;</c> holds an instance's count (<c>SET … PX</c>), and the
/// set <c>&lt;stream&gt;:presence</c> lists the instance ids, so a tick reads the members' keys instead
/// of scanning the keyspace. A member whose key has expired is removed by whoever reads it next.
/// The script reads keys it builds from the set's members, which it cannot declare in advance:
/// in Redis Cluster they are on the stream's slot only when the stream key has a hash tag, which
/// the backplane already requires there.
/// </remarks>
internal sealed class RedisPresence : IAsyncDisposable
{
    // KEYS[1] the set of instance ids, KEYS[2] this instance's count; ARGV[1] this instance's id,
    // ARGV[2] its count, ARGV[3] the expiry in ms, ARGV[4] the prefix of every instance's count key.
    // Returns the sum of the other live instances' counts.
    private const string TickScript = """
        redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
        redis.call('SADD', KEYS[1], ARGV[1])
        -- The set outlives its members by one expiry at most, so a cluster that stopped entirely
        -- leaves nothing behind; only ever lengthened, so an instance with a shorter interval does
        -- not cut the set under one with a longer one.
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
        end
        local others = 0
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if id ~= ARGV[1] then
            local count = redis.call('GET', ARGV[4] .. id)
            if count then
              others = others + tonumber(count)
            else
              redis.call('SREM', KEYS[1], id)
            end
          end
        end
        return others
        """;

    // KEYS[1] the set of instance ids, KEYS[2] this instance's count; ARGV[1] this instance's id.
    private const string LeaveScript = """
        redis.call('DEL', KEYS[2])
        redis.call('SREM', KEYS[1], ARGV[1])
        return 0
        """;

    // How long a stop waits for Redis to take the deletion of this instance's count. A courtesy:
    // without it the count expires after 3 intervals anyway, so a stop never waits long for it.
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(1);

    private readonly Task<IConnectionMultiplexer> _connecting;
    private readonly RedisKey[] _keys;
    private readonly string _setKey;
    private readonly string _instanceId;
    private readonly string _keyPrefix;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _expiry;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Func<int> _localCount;
    private readonly Action<int> _setOthers;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    /// <param name="connecting">The backplane's connection (completes when the multiplexer exists; it reconnects by itself).</param>
    /// <param name="streamKey">The shared stream; the presence keys are named after it.</param>
    /// <param name="instanceId">This instance's id, unique among the instances (the backplane's producer id).</param>
    /// <param name="interval">How often the count is written and the others' read; counts expire after 3 of them.</param>
    /// <param name="timeProvider">The clock of the loop.</param>
    /// <param name="logger">Where an unreachable Redis is reported (once per outage).</param>
    /// <param name="localCount">This instance's subscriber count now.</param>
    /// <param name="setOthers">Receives the other live instances' subscriber count after each tick (0 when they are unknown).</param>
    public RedisPresence(Task<IConnectionMultiplexer> connecting, string streamKey, string instanceId, TimeSpan interval, TimeProvider timeProvider, ILogger logger, Func<int> localCount, Action<int> setOthers)
    {
        ArgumentNullException.ThrowIfNull(connecting);
        ArgumentException.ThrowIfNullOrEmpty(streamKey);
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.FromMilliseconds(1));
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(localCount);
        ArgumentNullException.ThrowIfNull(setOthers);
        _connecting = connecting;
        _setKey = streamKey + ":presence";
        _keyPrefix = _setKey + ":";
        _instanceId = instanceId;
        _keys = [_setKey, _keyPrefix + instanceId];
        _interval = interval;

        // Three intervals: a count survives two lost ticks (a slow round trip, a short hiccup)
        // without the instance blinking out of the others' sums, and a dead instance is gone soon.
        _expiry = 3 * interval;
        _timeProvider = timeProvider;
        _logger = logger;
        _localCount = localCount;
        _setOthers = setOthers;
    }

    /// <summary>This instance's count key, <c>&lt;stream&gt;:presence:&lt;instance id&gt;</c>.</summary>
    internal string CountKey => _keyPrefix + _instanceId;

    /// <summary>Starts the loop: a first tick at once, then one per interval.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Stops the loop, then deletes this instance's count (best effort, within a second), so the
    /// others stop counting its subscribers at their next tick instead of after the expiry. Call it
    /// while the connection is still open.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
        if (!_connecting.IsCompletedSuccessfully)
        {
            // Never connected: nothing of this instance's is in Redis.
            return;
        }

        try
        {
            // Commands on one connection run in the order they were sent, so a tick still in
            // flight cannot write the count again after this deletes it.
            await _connecting.Result.GetDatabase()
                .ScriptEvaluateAsync(LeaveScript, _keys, [_instanceId])
                .WaitAsync(LeaveTimeout, _timeProvider)
                .ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Stopping while Redis is away: the count expires by itself.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private async Task RunAsync()
    {
        var token = _stopping.Token;
        var lastSuccess = _timeProvider.GetTimestamp();
        var failing = false;
        Task<RedisResult>? inFlight = null;
        while (true)
        {
            var tick = Task.Delay(_interval, _timeProvider, token);

            // One tick's script at a time: while Redis is away the multiplexer keeps a command
            // until its own timeout (5 s by default), and a new one per interval would pile up.
            inFlight ??= TickAsync();

            // Waited for at most one interval, so an unanswered Redis cannot hold the loop past
            // the moment the others' counts must be let go.
            await Task.WhenAny(inFlight, tick).ConfigureAwait(false);
            Exception? failure = null;
            var answered = false;
            if (inFlight.IsCompleted)
            {
                if (inFlight.IsCompletedSuccessfully)
                {
                    answered = true;
                    _setOthers((int)Math.Clamp((long)inFlight.Result, 0, int.MaxValue));
                    lastSuccess = _timeProvider.GetTimestamp();
                    if (failing)
                    {
                        failing = false;
                        RedisPresenceLog.Recovered(_logger, _setKey);
                    }
                }
                else
                {
                    failure = inFlight.Exception?.GetBaseException();
                }

                inFlight = null;
            }

            if (!answered && !token.IsCancellationRequested)
            {
                // Once per outage, not per tick (the backplane's own loops report theirs too).
                if (!failing)
                {
                    failing = true;
                    RedisPresenceLog.Unavailable(_logger, _setKey, _expiry, failure);
                }

                // By now Redis has let this instance's own count expire too, so the others no
                // longer count it either: an instance that cannot reach the rest counts alone
                // rather than report subscribers it can no longer know are there.
                if (_timeProvider.GetElapsedTime(lastSuccess) >= _expiry)
                {
                    _setOthers(0);
                }
            }

            try
            {
                await tick.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // A tick still unanswered at stop fails later, with the connection: observed here
                // so that its exception is not reported as unobserved.
                _ = inFlight?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                return;
            }
        }
    }

    private async Task<RedisResult> TickAsync()
    {
        var redis = await _connecting.ConfigureAwait(false);
        var count = _localCount().ToString(CultureInfo.InvariantCulture);
        var expiryMs = (long)_expiry.TotalMilliseconds;
        return await redis.GetDatabase().ScriptEvaluateAsync(TickScript, _keys, [_instanceId, count, expiryMs, _keyPrefix]).ConfigureAwait(false);
    }
}
