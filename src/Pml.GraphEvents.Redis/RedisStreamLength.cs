using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Where a stream stands, from <c>XINFO STREAM</c>: its length, its oldest entry's id (encoded) and
/// how many entries were ever added to it (Redis 7's <c>entries-added</c>; <see langword="null"/> on
/// an older Redis, or when the stream does not exist).
/// </summary>
internal readonly record struct RedisStreamLength(long Length, long? FirstId, long? Added)
{
    /// <summary>Reads the reply of an <c>XINFO STREAM</c> sent in a transaction; a stream that does not exist is empty.</summary>
    public static async Task<RedisStreamLength> ReadAsync(Task<RedisResult> reply)
    {
        RedisResult result;
        try
        {
            result = await reply.ConfigureAwait(false);
        }
        catch (RedisServerException)
        {
            // ERR no such key: the stream has never been written (or was lost).
            return new RedisStreamLength(0, null, null);
        }

        long length = 0;
        long? first = null;
        long? added = null;
        var fields = (RedisResult[])result!;
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            switch ((string?)fields[i])
            {
                case "length":
                    length = (long)fields[i + 1];
                    break;
                case "entries-added":
                    added = (long)fields[i + 1];
                    break;
                case "first-entry" when !fields[i + 1].IsNull:
                    var entry = (RedisResult[])fields[i + 1]!;
                    if (entry.Length > 0 && RedisStreamId.TryEncode((string?)entry[0], out var id))
                    {
                        first = id;
                    }

                    break;
            }
        }

        return new RedisStreamLength(length, first, added);
    }
}
