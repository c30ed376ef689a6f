using System.Globalization;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The shared log of executions to learn (DESIGN §7, issue 15): <c>POST /executions</c> on any
/// instance appends a body's executions here and answers 202 once Redis holds them; the learner
/// reads them in stream order. Idempotent across instances: an execution id already appended within
/// the duplicate window (by any instance) is answered as a duplicate and not appended again, so a
/// client may retry a POST on another instance.
/// </summary>
/// <remarks>
/// Keys: <c>&lt;stream&gt;:executions</c>, the stream (one entry per execution: <c>i</c> its id,
/// <c>d</c> its JSON); <c>&lt;stream&gt;:executions:seen</c>, a sorted set of the ids appended, scored by
/// Redis's time in milliseconds, trimmed in the same script by age and by count (the window's two
/// bounds). A body is one script: all its new executions are appended, or none (a Redis that fails
/// mid-way runs nothing of a script that did not complete). Not yet used by the server: the
/// learner that reads it is the next step of issue 15.
/// </remarks>
internal sealed class RedisExecutionLog
{
    // KEYS[1] the stream, KEYS[2] the seen set; ARGV[1] window age in ms, ARGV[2] window count,
    // then (id, json) per execution. Returns the ids that were duplicates, in the body's order.
    private const string AppendScript = """
        local now = redis.call('TIME')
        local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs - tonumber(ARGV[1]) - 1)
        local duplicates = {}
        for i = 3, #ARGV, 2 do
          if redis.call('ZADD', KEYS[2], 'NX', nowMs, ARGV[i]) == 1 then
            redis.call('XADD', KEYS[1], '*', 'i', ARGV[i], 'd', ARGV[i + 1])
          else
            duplicates[#duplicates + 1] = ARGV[i]
          end
        end
        local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
        if excess > 0 then
          redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
        end
        return duplicates
        """;

    private readonly IDatabase _database;
    private readonly RedisKey[] _keys;
    private readonly long _windowAgeMs;
    private readonly long _windowCount;

    /// <param name="database">Where the log lives.</param>
    /// <param name="streamKey">The shared event stream's key; the executions' keys are named after it.</param>
    /// <param name="windowCount">Ids remembered for duplicate detection (the engine's <c>DuplicateWindowCount</c>); 0 turns it off.</param>
    /// <param name="windowAge">How long an id is remembered (the engine's <c>DuplicateWindowAge</c>).</param>
    public RedisExecutionLog(IDatabase database, string streamKey, int windowCount, TimeSpan windowAge)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(streamKey);
        ArgumentOutOfRangeException.ThrowIfNegative(windowCount);
        _database = database;
        _keys = [streamKey + ":executions", streamKey + ":executions:seen"];
        _windowCount = windowCount;
        _windowAgeMs = (long)windowAge.TotalMilliseconds;
    }

    /// <summary>The stream the executions are appended to.</summary>
    public RedisKey Stream => _keys[0];

    /// <summary>
    /// Appends <paramref name="executions"/> (id and JSON each, in the body's order) as one atomic
    /// step, skipping ids within the window and repeats within the body: returns the skipped ids, in
    /// order. Once this returns, Redis holds every execution not returned.
    /// </summary>
    /// <exception cref="RedisException">Redis could not be reached or refused the script: nothing was appended.</exception>
    public async Task<IReadOnlyList<string>> AppendAsync(IReadOnlyList<(string Id, string Json)> executions)
    {
        ArgumentNullException.ThrowIfNull(executions);
        if (executions.Count == 0)
        {
            return [];
        }

        if (_windowCount == 0)
        {
            // A window of 0 remembers nothing: each id its own entry, repeats included.
            await AppendUnwindowedAsync(executions).ConfigureAwait(false);
            return [];
        }

        var args = new RedisValue[2 + (2 * executions.Count)];
        args[0] = _windowAgeMs;
        args[1] = _windowCount;
        for (var i = 0; i < executions.Count; i++)
        {
            args[2 + (2 * i)] = executions[i].Id;
            args[3 + (2 * i)] = executions[i].Json;
        }

        var result = await _database.ScriptEvaluateAsync(AppendScript, _keys, args).ConfigureAwait(false);
        return [.. ((RedisResult[])result!).Select(r => (string)r!)];
    }

    private async Task AppendUnwindowedAsync(IReadOnlyList<(string Id, string Json)> executions)
    {
        // One MULTI/EXEC: all or nothing, as with the window.
        var transaction = _database.CreateTransaction();
        var appends = new List<Task>(executions.Count);
        foreach (var (id, json) in executions)
        {
            appends.Add(transaction.StreamAddAsync(_keys[0], [new NameValueEntry("i", id), new NameValueEntry("d", json)]));
        }

        if (!await transaction.ExecuteAsync().ConfigureAwait(false))
        {
            throw new RedisException(string.Create(CultureInfo.InvariantCulture, $"Appending {executions.Count} executions to '{_keys[0]}' did not run."));
        }

        await Task.WhenAll(appends).ConfigureAwait(false);
    }
}
