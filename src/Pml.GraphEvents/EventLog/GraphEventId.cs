using System.Buffers;
using System.Security.Cryptography;

namespace Pml.GraphEvents;

/// <summary>
/// The event ids a broadcaster issues: <c>&lt;epoch&gt;-&lt;offset&gt;</c>, where the epoch is
/// ten characters of lowercase base32 (50 random bits, made once per log: when a log is created,
/// or per broadcaster for the in-memory log) and the offset is the event's place in that log, in
/// decimal without leading zeros. Clients treat the whole id as an opaque string (DESIGN §2); the
/// broadcaster reads it back to know whether a <c>Last-Event-ID</c> is one of its log's, and where.
/// </summary>
internal static class GraphEventId
{
    /// <summary>Characters of an epoch.</summary>
    public const int EpochLength = 10;

    /// <summary>The longest id: an epoch, '-', and a 64-bit offset (19 digits).</summary>
    public const int MaxLength = EpochLength + 1 + 19;

    // Crockford's base32 in lowercase: no i, l, o or u, so an id read aloud or retyped is not misread.
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    private static readonly SearchValues<char> EpochChars = SearchValues.Create(Alphabet);

    /// <summary>A new random epoch (50 bits from the system's cryptographic generator: two logs collide with odds of 2⁻⁵⁰).</summary>
    public static string NewEpoch()
    {
        Span<byte> random = stackalloc byte[EpochLength];
        RandomNumberGenerator.Fill(random);
        return string.Create(EpochLength, random.ToArray(), static (chars, bytes) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[bytes[i] & 31];
            }
        });
    }

    /// <summary>Whether <paramref name="value"/> has the form of an epoch.</summary>
    public static bool IsEpoch(ReadOnlySpan<char> value) => value.Length == EpochLength && !value.ContainsAnyExcept(EpochChars);

    /// <summary>The id of the event at <paramref name="offset"/> in the log of <paramref name="epoch"/>.</summary>
    public static string Format(string epoch, long offset) => string.Create(null, stackalloc char[MaxLength], $"{epoch}-{offset}");

    /// <summary>
    /// Reads an id: <see langword="true"/> with its epoch and offset when it has the form this type
    /// writes (whatever log it is from), <see langword="false"/> for anything else.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> value, out string epoch, out long offset)
    {
        epoch = string.Empty;
        offset = 0;
        if (value.Length <= EpochLength + 1 || value.Length > MaxLength || value[EpochLength] != '-' || !IsEpoch(value[..EpochLength]))
        {
            return false;
        }

        var digits = value[(EpochLength + 1)..];

        // Digits only, no sign, no leading zero (one id, one spelling), within 64 bits.
        if ((digits.Length > 1 && digits[0] == '0')
            || !long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset))
        {
            offset = 0;
            return false;
        }

        epoch = value[..EpochLength].ToString();
        return true;
    }
}
