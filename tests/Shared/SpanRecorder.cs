using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pml.GraphEvents.Testing;

/// <summary>
/// Records every stopped span of the named activity sources in this process, all data sampled, as
/// an OpenTelemetry tracer would take them. Other tests' spans are in the same process: a test picks
/// its own by its trace id (<see cref="Of"/>).
/// </summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    /// <param name="sources">Source names, compared by name (a source made after the listener is taken too).</param>
    public SpanRecorder(params string[] sources)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => sources.Contains(source.Name),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Every span stopped so far.</summary>
    public IReadOnlyCollection<Activity> All => _stopped;

    /// <summary>The spans of one trace stopped so far.</summary>
    public List<Activity> Of(ActivityTraceId trace) => [.. _stopped.Where(s => s.TraceId == trace)];

    public void Dispose() => _listener.Dispose();
}
