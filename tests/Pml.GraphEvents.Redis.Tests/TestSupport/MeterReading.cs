using System.Diagnostics.Metrics;

namespace Pml.GraphEvents.Redis.Tests.TestSupport;

/// <summary>Reads the current value of one observable instrument of one host's meters, as an exporter would collect it.</summary>
internal static class MeterReading
{
    /// <summary>
    /// The sum of what <paramref name="instrument"/> of the meter factory <paramref name="scope"/>
    /// reports now, over measurements whose <c>reason</c> tag is <paramref name="reason"/> (any when null).
    /// Scoped to one host's factory: other tests run hosts in parallel in this process.
    /// </summary>
    public static long Read(object scope, string instrument, string? reason = null)
    {
        long total = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (published, l) =>
            {
                if (ReferenceEquals(published.Meter.Scope, scope) && published.Name == instrument)
                {
                    l.EnableMeasurementEvents(published);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (reason is null || HasReason(tags, reason))
            {
                total += value;
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return total;
    }

    private static bool HasReason(ReadOnlySpan<KeyValuePair<string, object?>> tags, string reason)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "reason" && Equals(tag.Value, reason))
            {
                return true;
            }
        }

        return false;
    }
}
