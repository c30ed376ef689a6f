using System.Buffers.Text;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// Event ids of the form <c>&lt;epoch&gt;-&lt;offset&gt;</c>. Ids are opaque to clients (DESIGN §2):
/// the probe reads them only to check that every reader received every event once, in order.
/// </summary>
internal static class EndToEndEventId
{
    public static bool TryParseOffset(string? id, out long offset)
    {
        offset = 0;
        return id is not null && TrySplit(System.Text.Encoding.UTF8.GetBytes(id), out _, out offset);
    }

    /// <summary>Splits an id's bytes into its epoch and its offset.</summary>
    public static bool TrySplit(ReadOnlySpan<byte> id, out ReadOnlySpan<byte> epoch, out long offset)
    {
        var dash = id.LastIndexOf((byte)'-');
        epoch = dash > 0 ? id[..dash] : default;
        offset = 0;
        return dash > 0 && Utf8Parser.TryParse(id[(dash + 1)..], out offset, out var consumed) && consumed == id.Length - dash - 1;
    }
}
