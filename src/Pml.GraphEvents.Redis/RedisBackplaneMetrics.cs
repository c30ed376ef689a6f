using System.Diagnostics.Metrics;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The <c>Pml.GraphEvents.Redis</c> meter: what only the backplane sees (events appended, and
/// events that never reached the stream, by reason). Observable instruments read the backplane's
/// counters when a listener collects, so the write path pays nothing for them. Named like the
/// core's <c>Pml.GraphEvents</c> meter, so <c>AddMeter("Pml.GraphEvents*")</c> takes both.
/// </summary>
internal sealed class RedisBackplaneMetrics : IDisposable
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "Pml.GraphEvents.Redis";

    /// <summary>Reason tag: the outage buffer was full and its oldest event was dropped.</summary>
    public const string OutageBufferFull = "outage_buffer_full";

    /// <summary>Reason tag: the event could not be encoded (for example a NaN number).</summary>
    public const string Unencodable = "unencodable";

    /// <summary>Reason tag: the instance stopped before Redis took the event.</summary>
    public const string Stop = "stop";

    private readonly Histogram<double> _readLag;

    // Owned only when no meter factory was given (a backplane made without a host): a factory's
    // meters are disposed by the factory.
    private readonly Meter? _ownedMeter;

    public RedisBackplaneMetrics(IMeterFactory? meterFactory, RedisBackplane backplane)
    {
        Meter meter;
        if (meterFactory is null)
        {
            meter = _ownedMeter = new Meter(MeterName);
        }
        else
        {
            meter = meterFactory.Create(MeterName);
        }

        meter.CreateObservableCounter("pml.graph_events.redis.events.appended", () => backplane.EventsAppended, "{event}", "Events this instance appended to the stream.");
        meter.CreateObservableCounter<long>(
            "pml.graph_events.redis.events.dropped",
            () =>
            [
                new(backplane.EventsDropped, new KeyValuePair<string, object?>("reason", OutageBufferFull)),
                new(backplane.EventsUnencodable, new KeyValuePair<string, object?>("reason", Unencodable)),
                new(backplane.EventsDiscardedAtStop, new KeyValuePair<string, object?>("reason", Stop)),
            ],
            "{event}",
            "Events published on this instance that never reached the stream, by reason (outage_buffer_full, unencodable, stop).");
        meter.CreateObservableGauge("pml.graph_events.redis.outage_buffer", () => backplane.OutageBufferCount, "{event}", "Events published on this instance waiting for Redis.");
        meter.CreateObservableCounter("pml.graph_events.redis.reconnects", () => backplane.Reconnects, "{reconnect}", "Times this instance's connection to Redis was restored after a failure.");
        _readLag = meter.CreateHistogram<double>(
            "pml.graph_events.redis.read_lag",
            "ms",
            "From Redis appending an event to this instance reading it (Redis's clock to this host's: a skew between them shows here).");
    }

    /// <summary>Records how long after its append an entry was read here.</summary>
    public void RecordReadLag(double milliseconds)
    {
        if (_readLag.Enabled)
        {
            _readLag.Record(milliseconds);
        }
    }

    public void Dispose() => _ownedMeter?.Dispose();
}
