using System.Globalization;

namespace Pml.GraphEvents.Testing;

/// <summary>
/// Reads the ids the broadcaster issues (<c>&lt;epoch&gt;-&lt;offset&gt;</c>) in tests that count
/// events by id. Clients must treat ids as opaque; tests may look inside to check gaps exactly.
/// </summary>
internal static class EventIds
{
    /// <summary>The offset part of <paramref name="id"/>.</summary>
    public static long Offset(string? id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return long.Parse(id.AsSpan(id.IndexOf('-', StringComparison.Ordinal) + 1), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The epoch part of <paramref name="id"/>.</summary>
    public static string Epoch(string? id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id[..id.IndexOf('-', StringComparison.Ordinal)];
    }

    /// <summary>The id of <paramref name="offset"/> in the log of <paramref name="sameLog"/>.</summary>
    public static string At(string? sameLog, long offset) => string.Create(CultureInfo.InvariantCulture, $"{Epoch(sameLog)}-{offset}");
}
