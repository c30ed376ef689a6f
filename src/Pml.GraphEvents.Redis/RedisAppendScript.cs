namespace Pml.GraphEvents.Redis;

/// <summary>The Lua script that appends a batch of one instance's events to the stream.</summary>
internal static class RedisAppendScript
{
    /// <summary>The field of <c>&lt;StreamKey&gt;:config</c> that holds the stream's length.</summary>
    public const string MaxLengthField = "maxlen";

    /// <summary>
    /// KEYS[1] the stream, KEYS[2] this producer's key, KEYS[3] the stream's config hash.
    /// ARGV[1] this instance's MAXLEN (stored if none is), ARGV[2] this producer's id, ARGV[3] the
    /// notification channel, ARGV[4] the producer key's lifetime in seconds, then
    /// (sequence, type, data) per entry.
    /// </summary>
    /// <remarks>
    /// Why a script: a batch whose reply was lost (Redis or the connection failed after applying it)
    /// is sent again, and the producer's last appended sequence, checked and moved atomically here,
    /// makes that retry append nothing twice. The key expires a while after the producer's last
    /// append, so process starts do not pile up records forever; a retry comes seconds after its
    /// first attempt, well within that. The length comes from the config hash, not the caller, so
    /// one instance configured with a smaller one cannot trim the stream for all. The PUBLISH in the
    /// same script wakes every instance's reader as soon as the entries exist, so nobody polls at a
    /// millisecond interval.
    /// </remarks>
    public const string Source = """
        redis.call('HSETNX', KEYS[3], 'maxlen', ARGV[1])
        local maxlen = redis.call('HGET', KEYS[3], 'maxlen')
        local last = tonumber(redis.call('GET', KEYS[2]) or '0')
        local added = 0
        for i = 5, #ARGV, 3 do
          local seq = tonumber(ARGV[i])
          if seq > last then
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'p', ARGV[2], 's', ARGV[i], 't', ARGV[i + 1], 'd', ARGV[i + 2])
            last = seq
            added = added + 1
          end
        end
        if added > 0 then
          redis.call('SET', KEYS[2], last, 'EX', ARGV[4])
          redis.call('PUBLISH', ARGV[3], '1')
        end
        return added
        """;
}
