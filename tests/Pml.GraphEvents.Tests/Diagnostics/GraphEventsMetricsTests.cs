using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Diagnostics;

public sealed class GraphEventsMetricsTests
{
    [Fact]
    public async Task The_meter_reports_the_broadcasters_counters_and_the_delivery_latency()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddGraphEvents(o => o.MaxSubscribers = 1);
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();

        var longs = new Dictionary<string, long>();
        var latencies = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Pml.GraphEvents" && instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var reason = tags.Length > 0 ? "." + tags[0].Value : "";
            longs[instrument.Name + reason] = value;
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => longs[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (latencies)
            {
                latencies.Add(value);
            }
        });
        listener.Start();

        var broadcaster = provider.GetRequiredService<IGraphEventBroadcaster>();
        var subscription = broadcaster.Subscribe();
        Assert.False(broadcaster.TrySubscribe(out _));
        var pipe = new Pipe();
        var writing = subscription.WriteToAsync(pipe.Writer, cancellationToken: ct);
        for (var i = 0; i < 5; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), ct);
        }

        await SubscriptionReading.EventuallyAsync(() => { lock (latencies) { return latencies.Count == 5; } }, "five latencies");
        listener.RecordObservableInstruments();

        Assert.Equal(1, longs["pml.graph_events.subscribers"]);
        Assert.Equal(5, longs["pml.graph_events.events.published"]);
        Assert.Equal(5, longs["pml.graph_events.frames.delivered"]);
        Assert.Equal(0, longs["pml.graph_events.frames.dropped"]);
        Assert.Equal(1, longs["pml.graph_events.connections.refused"]);
        Assert.Equal(0, longs["pml.graph_events.subscriptions.evicted.lagging"]);
        Assert.Equal(0, longs["pml.graph_events.subscriptions.evicted.write_timeout"]);
        Assert.All(latencies, l => Assert.InRange(l, 0, 30));

        subscription.Dispose();
        await writing;

        // Counters are cumulative: disposing the broadcaster must not take its counts back.
        await broadcaster.DisposeAsync();
        listener.RecordObservableInstruments();
        Assert.Equal(5, longs["pml.graph_events.events.published"]);
        Assert.Equal(1, longs["pml.graph_events.connections.refused"]);
        Assert.Equal(0, longs["pml.graph_events.subscribers"]);
    }
}
