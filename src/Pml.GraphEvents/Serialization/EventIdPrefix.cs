using System.Text;

namespace Pml.GraphEvents;

/// <summary>
/// The start of every <c>id:</c> line of one log's frames, <c>id: &lt;epoch&gt;-</c> in UTF-8,
/// made once per log so that encoding a frame's id is one copy and the offset's digits.
/// </summary>
internal sealed class EventIdPrefix
{
    public EventIdPrefix(string epoch)
    {
        if (!GraphEventId.IsEpoch(epoch))
        {
            throw new ArgumentException($"'{epoch}' is not an event log epoch ({GraphEventId.EpochLength} characters of lowercase base32).", nameof(epoch));
        }

        Epoch = epoch;
        Utf8 = Encoding.ASCII.GetBytes($"id: {epoch}-");
    }

    /// <summary>The log's epoch.</summary>
    public string Epoch { get; }

    /// <summary><c>id: &lt;epoch&gt;-</c> as UTF-8.</summary>
    public byte[] Utf8 { get; }

    /// <summary>The id of the event at <paramref name="offset"/>.</summary>
    public string Format(long offset) => GraphEventId.Format(Epoch, offset);
}
