using System.Globalization;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Maps Redis stream ids (<c>&lt;ms&gt;-&lt;seq&gt;</c>) to the numeric SSE ids of the wire and
/// back: <c>ms &lt;&lt; 20 | seq</c>. Reversible and order-preserving, so Last-Event-ID stays a
/// number and compares the way the stream orders its entries. Limits: a sequence below 2^20
/// (1,048,576 entries in one millisecond) and a time below 2^43 ms (the year 2248).
/// </summary>
internal static class RedisStreamId
{
    public const int SequenceBits = 20;
    public const long MaxSequence = (1L << SequenceBits) - 1;
    public const long MaxMilliseconds = (1L << (63 - SequenceBits)) - 1;

    /// <summary>Encodes a stream id such as <c>1764585000123-7</c>; <see langword="false"/> when it is malformed or out of range.</summary>
    public static bool TryEncode(ReadOnlySpan<char> streamId, out long id)
    {
        id = 0;
        var dash = streamId.IndexOf('-');
        if (dash <= 0
            || !long.TryParse(streamId[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || !long.TryParse(streamId[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
            || ms > MaxMilliseconds
            || seq > MaxSequence)
        {
            return false;
        }

        id = (ms << SequenceBits) | seq;
        return true;
    }

    /// <summary>The stream id of an encoded id, for XRANGE and XREAD.</summary>
    public static string Format(long id) =>
        string.Create(CultureInfo.InvariantCulture, $"{Milliseconds(id)}-{id & MaxSequence}");

    /// <summary>The Unix time in milliseconds at which Redis issued <paramref name="id"/>.</summary>
    public static long Milliseconds(long id) => id >> SequenceBits;
}
