using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The shared log of executions to learn (DESIGN §7): <c>POST /executions</c> on any instance appends
/// a body's executions here and answers 202 once Redis holds them; the learner reads them in stream
/// order. Idempotent across instances: an execution id already appended within the duplicate window
/// (by any instance) is answered as a duplicate and not appended again, so a client may retry a POST
/// on another instance.
/// </summary>
/// <remarks>
/// Keys (see <see cref="RedisClusterKeys"/>): the stream (one entry per execution: <c>i</c> its id,
/// <c>d</c> its JSON); <c>:seen</c>, a sorted set of the ids appended, scored by Redis's time in
/// milliseconds, trimmed in the same script by age and by count (the window's two bounds); the
/// appended count, which with the learner's learned count gives the executions waiting. A body is
/// one script: all its new executions are appended, or none (Redis runs a script whole or not at
/// all), and none when that would leave more than the pending bound waiting for the learner.
/// </remarks>
internal sealed class RedisExecutionLog
{
    // KEYS: 1 the stream, 2 the seen set, 3 the appended count, 4 the learned count.
    // ARGV: 1 window age in ms, 2 window count (0: no window), 3 the pending bound, 4 the
    // notification channel, 5 the appending span's traceparent ('' for none), then (id, json) per execution.
    // Returns {'full', waiting} (nothing appended), or {'ok', duplicate ids in the body's order...}.
    private const string AppendScript = """
        local waiting = tonumber(redis.call('GET', KEYS[3]) or '0') - tonumber(redis.call('GET', KEYS[4]) or '0')
        if waiting + (#ARGV - 5) / 2 > tonumber(ARGV[3]) then
          return {'full', tostring(waiting)}
        end
        local window = tonumber(ARGV[2]) > 0
        local nowMs = 0
        if window then
          local now = redis.call('TIME')
          nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
          redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs - tonumber(ARGV[1]) - 1)
        end
        local result = {'ok'}
        local added = 0
        for i = 6, #ARGV, 2 do
          if not window or redis.call('ZADD', KEYS[2], 'NX', nowMs, ARGV[i]) == 1 then
            if ARGV[5] == '' then
              redis.call('XADD', KEYS[1], '*', 'i', ARGV[i], 'd', ARGV[i + 1])
            else
              redis.call('XADD', KEYS[1], '*', 'i', ARGV[i], 'd', ARGV[i + 1], 'c', ARGV[5])
            end
            added = added + 1
          else
            result[#result + 1] = ARGV[i]
          end
        end
        if window then
          local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
          if excess > 0 then
            redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
          end
        end
        if added > 0 then
          redis.call('INCRBY', KEYS[3], added)
          redis.call('PUBLISH', ARGV[4], '1')
        end
        return result
        """;

    private readonly IDatabase _database;
    private readonly RedisKey[] _keys;
    private readonly RedisChannel _notify;
    private readonly long _windowAgeMs;
    private readonly long _windowCount;
    private readonly long _maxPending;

    /// <param name="database">Where the log lives.</param>
    /// <param name="streamKey">The shared event stream's key; the executions' keys are named after it.</param>
    /// <param name="windowCount">Ids remembered for duplicate detection (the engine's <c>DuplicateWindowCount</c>); 0 turns it off.</param>
    /// <param name="windowAge">How long an id is remembered (the engine's <c>DuplicateWindowAge</c>).</param>
    /// <param name="maxPending">The most executions that may wait for the learner (<see cref="RedisBackplaneOptions.MaxPendingExecutions"/>).</param>
    public RedisExecutionLog(IDatabase database, string streamKey, int windowCount, TimeSpan windowAge, int maxPending = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(streamKey);
        ArgumentOutOfRangeException.ThrowIfNegative(windowCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPending);
        var keys = new RedisClusterKeys(streamKey);
        _database = database;
        _keys = [keys.Executions, streamKey + ":executions:seen", keys.AppendedCount, keys.LearnedCount];
        _notify = keys.ExecutionsNotify;
        _windowCount = windowCount;
        _windowAgeMs = (long)windowAge.TotalMilliseconds;
        _maxPending = maxPending;
    }

    /// <summary>The stream the executions are appended to.</summary>
    public RedisKey Stream => _keys[0];

    /// <summary>
    /// Appends <paramref name="executions"/> (id and JSON each, in the body's order) as one atomic
    /// step, skipping ids within the window and repeats within the body: returns the skipped ids, in
    /// order. Once this returns, Redis holds every execution not returned.
    /// </summary>
    /// <param name="executions">The executions, id and JSON each.</param>
    /// <param name="traceParent">The appending span's W3C <c>traceparent</c>, stored with each entry for the learner to continue; empty for none.</param>
    /// <exception cref="RedisException">Redis could not be reached or refused the script: nothing was appended.</exception>
    /// <exception cref="ExecutionLogFullException">Too many executions wait for the learner: nothing was appended.</exception>
    public async Task<IReadOnlyList<string>> AppendAsync(IReadOnlyList<(string Id, string Json)> executions, RedisValue traceParent = default)
    {
        ArgumentNullException.ThrowIfNull(executions);
        if (executions.Count == 0)
        {
            return [];
        }

        var args = new RedisValue[5 + (2 * executions.Count)];
        args[0] = _windowAgeMs;
        args[1] = _windowCount;
        args[2] = _maxPending;
        args[3] = _notify.ToString();
        args[4] = traceParent.IsNull ? RedisValue.EmptyString : traceParent;
        for (var i = 0; i < executions.Count; i++)
        {
            args[5 + (2 * i)] = executions[i].Id;
            args[6 + (2 * i)] = executions[i].Json;
        }

        var result = (RedisResult[])(await _database.ScriptEvaluateAsync(AppendScript, _keys, args).ConfigureAwait(false))!;
        if ((string?)result[0] == "full")
        {
            throw new ExecutionLogFullException((long)result[1], _maxPending);
        }

        return [.. result.Skip(1).Select(r => (string)r!)];
    }
}
