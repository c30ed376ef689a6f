using System.Diagnostics.Metrics;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The learner's and the replica's instruments, on the <c>Pml.GraphEvents.Redis</c> meter beside the
/// backplane's. All observable: they read counters the loops keep anyway when a listener collects.
/// </summary>
internal sealed class RedisClusterMetrics : IDisposable
{
    private readonly Meter? _ownedMeter;

    public RedisClusterMetrics(IMeterFactory? meterFactory, RedisGraphCluster cluster)
    {
        Meter meter;
        if (meterFactory is null)
        {
            meter = _ownedMeter = new Meter(RedisBackplaneMetrics.MeterName);
        }
        else
        {
            meter = meterFactory.Create(RedisBackplaneMetrics.MeterName);
        }

        meter.CreateObservableGauge("pml.graph_events.redis.learner.active", () => cluster.Learner.IsLearner ? 1 : 0, "{learner}", "1 while this instance holds the learner's lease, else 0.");
        meter.CreateObservableCounter("pml.graph_events.redis.learner.executions", () => cluster.Learner.Learned, "{execution}", "Executions this instance learned (or skipped as refused) as the learner.");
        meter.CreateObservableCounter("pml.graph_events.redis.learner.terms", () => cluster.Learner.Terms, "{term}", "Times this instance took the learner's lease.");
        meter.CreateObservableGauge(
            "pml.graph_events.redis.learner.lag",
            () => cluster.Learner.IsLearner ? [new Measurement<long>(cluster.Learner.Waiting)] : Array.Empty<Measurement<long>>(),
            "{execution}",
            "Executions waiting to be learned after the learner's last commit (reported by the learner only).");
        meter.CreateObservableCounter("pml.graph_events.redis.replica.units", () => cluster.Replica.UnitsFolded, "{unit}", "Learned batches folded into this instance's graph from the stream (the learner's own are not).");
        meter.CreateObservableCounter("pml.graph_events.redis.replica.snapshots", () => cluster.Replica.SnapshotsLoaded, "{snapshot}", "Graph snapshots this instance loaded (at start, or after missing events).");
    }

    public void Dispose() => _ownedMeter?.Dispose();
}
