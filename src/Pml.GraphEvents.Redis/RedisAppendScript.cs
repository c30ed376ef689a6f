namespace Pml.GraphEvents.Redis;

/// <summary>The Lua script that appends a batch of one instance's events to the stream.</summary>
internal static class RedisAppendScript
{
    /// <summary>
    /// KEYS[1] the stream, KEYS[2] the producers hash. ARGV[1] MAXLEN, ARGV[2] this producer's id,
    /// ARGV[3] the notification channel, then (sequence, type, data) per event.
    /// </summary>
    /// <remarks>
    /// Why a script: a batch whose reply was lost (Redis or the connection failed after applying it)
    /// is sent again, and the producer's last appended sequence, checked and moved atomically here,
    /// makes that retry append nothing twice. The PUBLISH in the same script wakes every instance's
    /// reader as soon as the entries exist, so nobody polls at a millisecond interval.
    /// </remarks>
    public const string Source = """
        local last = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
        local added = 0
        for i = 4, #ARGV, 3 do
          local seq = tonumber(ARGV[i])
          if seq > last then
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'p', ARGV[2], 's', ARGV[i], 't', ARGV[i + 1], 'd', ARGV[i + 2])
            last = seq
            added = added + 1
          end
        end
        if added > 0 then
          redis.call('HSET', KEYS[2], ARGV[2], last)
          redis.call('PUBLISH', ARGV[3], '1')
        end
        return added
        """;
}
