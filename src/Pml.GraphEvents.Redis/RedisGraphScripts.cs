namespace Pml.GraphEvents.Redis;

/// <summary>
/// The learner's writes to the shared event stream (DESIGN §7), each one Lua script so that its
/// checks and the writes they guard are atomic: nothing is written unless the caller still holds
/// the learner's lease with its fencing token.
/// </summary>
internal static class RedisGraphScripts
{
    /// <summary>
    /// Appends one unit (a learned batch's events) and moves the learned cursor with it.
    /// KEYS: 1 the lease, 2 the event stream, 3 the head (stream id of the last unit's last event),
    /// 4 the learned cursor (the executions log's id of the last execution learned), 5 the learned
    /// count, 6 the stream's config hash, 7 the executions log, 8 the epoch, 9 the appended count.
    /// ARGV: 1 the lease holder (<c>&lt;token&gt;:&lt;instance&gt;</c>), 2 the head the unit follows,
    /// 3 the new cursor, 4 the executions learned, 5 the notification channel, 6 this instance's
    /// stream length (stored if none is), 7 an epoch to create if none exists, 8 the appending span's
    /// W3C <c>traceparent</c>, stored as <c>c</c> on the unit's first event ('' for none), then (type, data) per event.
    /// Returns <c>{0}</c> when the lease is not held (nothing written), <c>{-1, head}</c> when the head
    /// is not the one the unit follows (the learner's state is behind: nothing written), or
    /// <c>{1, last id, epoch, executions still waiting}</c>.
    /// </summary>
    /// <remarks>
    /// Why the head check: the learner's state must include every unit before its own, or two
    /// learners (one just taking over, still folding its predecessor's last units) could each build
    /// on a different state. The cursor, its count and the events move in one step, so that after
    /// any crash an execution is either learned with its events in the stream, or not learned at all.
    /// The first event of a unit carries <c>b</c>, the head it follows: a replica folds a unit only
    /// on the state it follows, and loads a snapshot instead when it missed something. The unit's
    /// other events carry the same head as <c>u</c>, so that a reader that fell behind the stream's
    /// trimming in the middle of a unit never joins the start of one unit to the end of another.
    /// Learned executions are trimmed from the executions log (<c>XTRIM MINID</c>) as they are learned.
    /// </remarks>
    public const string Commit = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return {0}
        end
        local head = redis.call('GET', KEYS[3]) or '0-0'
        if head ~= ARGV[2] then
          return {-1, head}
        end
        redis.call('SET', KEYS[8], ARGV[7], 'NX')
        local epoch = redis.call('GET', KEYS[8])
        redis.call('HSETNX', KEYS[6], 'maxlen', ARGV[6])
        local maxlen = redis.call('HGET', KEYS[6], 'maxlen')
        local last = head
        for i = 9, #ARGV, 2 do
          if i == 9 and ARGV[8] ~= '' then
            last = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'b', head, 't', ARGV[i], 'd', ARGV[i + 1], 'c', ARGV[8])
          elseif i == 9 then
            last = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'b', head, 't', ARGV[i], 'd', ARGV[i + 1])
          else
            last = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'u', head, 't', ARGV[i], 'd', ARGV[i + 1])
          end
        end
        redis.call('SET', KEYS[3], last)
        redis.call('SET', KEYS[4], ARGV[3])
        redis.call('INCRBY', KEYS[5], ARGV[4])
        redis.call('XTRIM', KEYS[7], 'MINID', ARGV[3])
        if #ARGV >= 9 then
          redis.call('PUBLISH', ARGV[5], '1')
        end
        local waiting = tonumber(redis.call('GET', KEYS[9]) or '0') - tonumber(redis.call('GET', KEYS[5]) or '0')
        return {1, last, epoch, waiting}
        """;

    /// <summary>
    /// Stores a snapshot of the graph. KEYS: 1 the lease, 2 the snapshot. ARGV: 1 the lease holder,
    /// 2 the snapshot JSON. Returns 1, or 0 when the lease is not held (nothing written).
    /// </summary>
    public const string Snapshot = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """;

    /// <summary>
    /// Makes the learner's graph the base of a stream that lost its data (a Redis restarted without
    /// persistence): stores the snapshot at position <c>0-0</c> and the head <c>0-0</c>, only while the
    /// stream has no head. KEYS: 1 the lease, 2 the snapshot, 3 the head, 4 the epoch. ARGV: 1 the
    /// lease holder, 2 the snapshot JSON, 3 the snapshot's epoch. Returns 1 when stored; 0 when the
    /// lease is not held, the stream has a head already, or the epoch is not the snapshot's.
    /// </summary>
    public const string Base = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('EXISTS', KEYS[3]) == 1 or redis.call('GET', KEYS[4]) ~= ARGV[3] then
          return 0
        end
        redis.call('SET', KEYS[2], ARGV[2])
        redis.call('SET', KEYS[3], '0-0')
        return 1
        """;
}
