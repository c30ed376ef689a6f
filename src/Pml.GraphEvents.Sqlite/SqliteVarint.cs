namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// Unsigned LEB128 varints (7 bits a byte, low bits first, the high bit set on every byte but the
/// last), the one encoding of every packed row of the file (events, edge journal, learned ids):
/// small numbers, most of them under 128, take one byte. Readers refuse what the writer never
/// writes (a number past the end, or too large for its type) instead of reading it as something else.
/// </summary>
internal static class SqliteVarint
{
    /// <summary>The most bytes a 32-bit value takes.</summary>
    public const int MaxBytes32 = 5;

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="span"/> (at least 10 bytes, or 5 for a 32-bit value); returns the bytes written.</summary>
    public static int Write(Span<byte> span, ulong value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            span[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[at++] = (byte)value;
        return at;
    }

    /// <summary>Reads a 64-bit value at <paramref name="at"/> and moves past it; <see langword="false"/> when the data ends first or it takes more than 10 bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> span, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= span.Length)
            {
                return false;
            }

            var b = span[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads a value of at most <see cref="int.MaxValue"/> (a count, a length, an index) at
    /// <paramref name="at"/> and moves past it; <see langword="false"/> when the data ends first, or
    /// the value takes more than 5 bytes or is larger (its fifth byte may carry 3 bits only).
    /// </summary>
    public static bool TryReadInt(ReadOnlySpan<byte> span, ref int at, out int value)
    {
        value = 0;
        for (var shift = 0; shift < 7 * MaxBytes32; shift += 7)
        {
            if (at >= span.Length)
            {
                return false;
            }

            var b = span[at++];
            if (shift == 28 && b > 0x07)
            {
                // 4 × 7 bits are read; int.MaxValue leaves 3 for the fifth byte, and no continuation.
                return false;
            }

            value |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
