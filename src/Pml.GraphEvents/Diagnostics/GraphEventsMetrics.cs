using System.Diagnostics.Metrics;

namespace Pml.GraphEvents;

/// <summary>
/// The <c>Pml.GraphEvents</c> meter. Counters the broadcaster already keeps are exposed as
/// observable instruments read when a listener collects, so publishing and fan-out pay nothing
/// for metrics; only what the broadcaster cannot see (write timeouts, publish-to-write latency)
/// is recorded by the stream writer.
/// </summary>
internal sealed class GraphEventsMetrics
{
    /// <summary>The meter name, for <c>AddMeter</c> in OpenTelemetry or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "Pml.GraphEvents";

    // Broadcasters made without dependency injection share one process-wide meter, as
    // System.Net and ASP.NET Core do for theirs.
    private static readonly Lazy<GraphEventsMetrics> SharedInstance = new(static () => new GraphEventsMetrics(new Meter(MeterName)));

    // Latency buckets from 100 µs to 10 s: a healthy loopback write is well under a millisecond,
    // a stalled client is evicted after the write timeout (10 s by default).
    private static readonly double[] LatencyBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Lock _gate = new();
    private readonly Histogram<double> _latency;

    // Copy-on-write, like the broadcaster's subscriber list: collection callbacks read a snapshot.
    private IGraphEventStatisticsSource[] _broadcasters = [];

    // What disposed broadcasters counted, so that the cumulative counters never go down (an
    // exporter would read a decrease as a reset). Their subscriber count is not kept: it is a gauge.
    private GraphEventBroadcasterStatistics _retired;
    private long _writeTimeouts;

    public GraphEventsMetrics(IMeterFactory meterFactory)
        : this(meterFactory.Create(MeterName))
    {
    }

    private GraphEventsMetrics(Meter meter)
    {
        meter.CreateObservableUpDownCounter("pml.graph_events.subscribers", () => Sum(static s => s.SubscriberCount), "{subscriber}", "Subscribers connected now.");
        meter.CreateObservableCounter("pml.graph_events.events.published", () => Sum(static s => s.EventsPublished), "{event}", "Events broadcast, heartbeats included.");
        meter.CreateObservableCounter("pml.graph_events.events.failed", () => Sum(static s => s.EventsFailed), "{event}", "Events accepted at publish that could not be broadcast (skipped; the broadcast goes on).");
        meter.CreateObservableCounter("pml.graph_events.frames.delivered", () => Sum(static s => s.FramesDelivered), "{frame}", "Frames handed to subscriber buffers.");
        meter.CreateObservableCounter("pml.graph_events.frames.dropped", () => Sum(static s => s.FramesDropped), "{frame}", "Frames discarded by the drop-oldest policy.");
        meter.CreateObservableCounter("pml.graph_events.connections.refused", () => Sum(static s => s.SubscribesRefused), "{connection}", "Subscribes refused at the subscriber limit.");
        meter.CreateObservableCounter("pml.graph_events.subscriptions.evicted", ObserveEvictions, "{subscription}", "Subscriptions ended because the client could not keep up, by reason (lagging, write_timeout).");
        _latency = meter.CreateHistogram(
            "pml.graph_events.delivery.duration",
            "s",
            "Time from the pump dispatching a live frame to its write being flushed to a client.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
    }

    public static GraphEventsMetrics Shared => SharedInstance.Value;

    public bool LatencyEnabled => _latency.Enabled;

    public void RecordLatency(TimeSpan elapsed) => _latency.Record(elapsed.TotalSeconds);

    public void WriteTimedOut() => Interlocked.Increment(ref _writeTimeouts);

    public void Attach(IGraphEventStatisticsSource broadcaster)
    {
        lock (_gate)
        {
            Volatile.Write(ref _broadcasters, [.. _broadcasters, broadcaster]);
        }
    }

    public void Detach(IGraphEventStatisticsSource broadcaster)
    {
        var last = broadcaster.GetStatistics();
        lock (_gate)
        {
            Volatile.Write(ref _broadcasters, [.. _broadcasters.Where(b => b != broadcaster)]);
            _retired = _retired with
            {
                EventsPublished = _retired.EventsPublished + last.EventsPublished,
                FramesDelivered = _retired.FramesDelivered + last.FramesDelivered,
                SubscribersEvicted = _retired.SubscribersEvicted + last.SubscribersEvicted,
                FramesDropped = _retired.FramesDropped + last.FramesDropped,
                SubscribesRefused = _retired.SubscribesRefused + last.SubscribesRefused,
                PublishesRejected = _retired.PublishesRejected + last.PublishesRejected,
                EventsFailed = _retired.EventsFailed + last.EventsFailed,
            };
        }
    }

    private long Sum(Func<GraphEventBroadcasterStatistics, long> select)
    {
        long total;
        IGraphEventStatisticsSource[] live;
        lock (_gate)
        {
            total = select(_retired);
            live = _broadcasters;
        }

        foreach (var broadcaster in live)
        {
            total += select(broadcaster.GetStatistics());
        }

        return total;
    }

    private IEnumerable<Measurement<long>> ObserveEvictions() =>
    [
        new(Sum(static s => s.SubscribersEvicted), new KeyValuePair<string, object?>("reason", "lagging")),
        new(Interlocked.Read(ref _writeTimeouts), new KeyValuePair<string, object?>("reason", "write_timeout")),
    ];
}
