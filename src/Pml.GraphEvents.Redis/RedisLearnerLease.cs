using System.Globalization;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The right to learn, held by one instance at a time (DESIGN §7, issue 15): a lease in Redis that
/// expires unless its holder renews it, carrying a fencing token that grows with every new holder.
/// Writes made under the lease go through <see cref="AppendFencedAsync"/>, which Redis refuses
/// unless the lease still holds that token: an ex-learner that was paused (a long GC, a stopped
/// container) past its lease and wakes up cannot append after its successor has taken over.
/// </summary>
/// <remarks>
/// Keys: <c>&lt;stream&gt;:learner</c> holds <c>&lt;token&gt;:&lt;instance id&gt;</c> with a time to live
/// (Redis's clock, so instances' clocks do not matter); <c>&lt;stream&gt;:learner:fence</c> is the last
/// token handed out (INCR: never reused, even after the lease key expired or was deleted). Every
/// operation is one Lua script, so a check and the write it guards are atomic. Not yet used by the
/// server: the learner that holds it is the next step of issue 15.
/// </remarks>
internal sealed class RedisLearnerLease
{
    // KEYS[1] the lease, KEYS[2] the fence counter; ARGV[1] the instance id, ARGV[2] the lease in ms.
    // Held by this instance already: renewed, same token. Held by another: nil. Free: a new token.
    private const string AcquireScript = """
        local current = redis.call('GET', KEYS[1])
        if current then
          local token, holder = string.match(current, '^(%d+):(.*)$')
          if holder == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return tonumber(token)
          end
          return false
        end
        local token = redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
        return token
        """;

    // KEYS[1] the lease; ARGV[1] '<token>:<instance id>', ARGV[2] the lease in ms.
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """;

    // KEYS[1] the lease; ARGV[1] '<token>:<instance id>'.
    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    // KEYS[1] the lease, KEYS[2] the stream; ARGV[1] '<token>:<instance id>', then field, value pairs.
    private const string FencedAppendScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return false
        end
        local fields = {}
        for i = 2, #ARGV do
          fields[#fields + 1] = ARGV[i]
        end
        return redis.call('XADD', KEYS[2], '*', unpack(fields))
        """;

    private readonly IDatabase _database;
    private readonly RedisKey[] _leaseKeys;
    private readonly RedisKey _leaseKey;
    private readonly string _instanceId;
    private readonly long _durationMs;

    /// <param name="database">Where the lease lives.</param>
    /// <param name="streamKey">The shared stream the lease is for; the lease's keys are named after it.</param>
    /// <param name="instanceId">This instance's id, unique among the instances (a GUID).</param>
    /// <param name="duration">How long the lease holds without a renewal: how long a dead learner delays the next one.</param>
    public RedisLearnerLease(IDatabase database, string streamKey, string instanceId, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(streamKey);
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.FromMilliseconds(1));
        _database = database;
        _leaseKey = streamKey + ":learner";
        _leaseKeys = [_leaseKey, streamKey + ":learner:fence"];
        _instanceId = instanceId;
        _durationMs = (long)duration.TotalMilliseconds;
    }

    /// <summary>
    /// Takes the lease when it is free, or renews it when this instance holds it: the fencing token
    /// to write with, or <see langword="null"/> while another instance holds it.
    /// </summary>
    public async Task<long?> TryAcquireAsync()
    {
        var result = await _database.ScriptEvaluateAsync(AcquireScript, _leaseKeys, [_instanceId, _durationMs]).ConfigureAwait(false);
        return result.IsNull ? null : (long)result;
    }

    /// <summary>Extends the lease held with <paramref name="token"/>; <see langword="false"/> when it was lost (expired, or taken over).</summary>
    public async Task<bool> RenewAsync(long token) =>
        (long)await _database.ScriptEvaluateAsync(RenewScript, [_leaseKey], [Holder(token), _durationMs]).ConfigureAwait(false) == 1;

    /// <summary>Gives the lease up at once (a graceful stop), so the next learner need not wait for it to expire. Nothing when it is no longer held with <paramref name="token"/>.</summary>
    public async Task ReleaseAsync(long token) =>
        await _database.ScriptEvaluateAsync(ReleaseScript, [_leaseKey], [Holder(token)]).ConfigureAwait(false);

    /// <summary>
    /// Appends one entry of <paramref name="fields"/> to <paramref name="stream"/> only while the lease
    /// is held with <paramref name="token"/>: its stream id, or <see langword="null"/> when the lease
    /// was lost (nothing was appended).
    /// </summary>
    public async Task<string?> AppendFencedAsync(long token, RedisKey stream, IReadOnlyList<NameValueEntry> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var args = new RedisValue[1 + (2 * fields.Count)];
        args[0] = Holder(token);
        for (var i = 0; i < fields.Count; i++)
        {
            args[1 + (2 * i)] = fields[i].Name;
            args[2 + (2 * i)] = fields[i].Value;
        }

        var result = await _database.ScriptEvaluateAsync(FencedAppendScript, [_leaseKey, stream], args).ConfigureAwait(false);
        return result.IsNull ? null : (string?)result;
    }

    private string Holder(long token) => string.Create(CultureInfo.InvariantCulture, $"{token}:{_instanceId}");
}
