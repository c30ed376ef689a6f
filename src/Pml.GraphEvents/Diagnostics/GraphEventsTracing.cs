using System.Diagnostics;

namespace Pml.GraphEvents;

/// <summary>
/// The <c>Pml.GraphEvents</c> activity source: one execution followed from its <c>POST</c> through
/// its learning to its events' append and delivery. Spans are made only while a listener samples
/// them (OpenTelemetry's <c>AddSource("Pml.GraphEvents*")</c>, or an <see cref="ActivityListener"/>);
/// without one, <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns
/// <see langword="null"/> after one check, and the pump does not even read the clock for them.
/// The names and tags are documented in docs/operations.md ("Traces").
/// </summary>
internal static class GraphEventsTracing
{
    /// <summary>The source name, the same as the meter's.</summary>
    public const string SourceName = "Pml.GraphEvents";

    /// <summary>The engine learning a batch of executions: checks, the writer lock, planning and metrics, and the wait for its commit.</summary>
    public const string Learn = "pml.graph_events.learn";

    /// <summary>The pump appending a committed block's events to the log and delivering them to every subscriber.</summary>
    public const string Publish = "pml.graph_events.publish";

    /// <summary>Executions in the batch.</summary>
    public const string ExecutionsTag = "pml.graph_events.executions";

    /// <summary>Executions learned (not duplicates).</summary>
    public const string LearnedTag = "pml.graph_events.learned";

    /// <summary>Executions answered as duplicates.</summary>
    public const string DuplicatesTag = "pml.graph_events.duplicates";

    /// <summary>Events the batch or block produced.</summary>
    public const string EventsTag = "pml.graph_events.events";

    /// <summary>The id of the block's last event: what a client's <c>Last-Event-ID</c> would say after it.</summary>
    public const string LastEventIdTag = "pml.graph_events.last_event_id";

    /// <summary>Events the pump numbered, appended and delivered together with the block (its drain): batching under load.</summary>
    public const string DrainEventsTag = "pml.graph_events.drain.events";

    /// <summary>Subscribers the block was offered to.</summary>
    public const string SubscribersTag = "pml.graph_events.subscribers";

    /// <summary>The event marking the end of the log append, within a publish span.</summary>
    public const string AppendedEvent = "appended";

    /// <summary>The event marking the engine's writer lock taken, within a learn span (the time before it was spent waiting for another batch).</summary>
    public const string LockedEvent = "locked";

    /// <summary>The event marking the batch planned and the graph's metrics computed, within a learn span.</summary>
    public const string PlannedEvent = "planned";

    public static readonly ActivitySource Source = new(SourceName, typeof(GraphEventsTracing).Assembly.GetName().Version?.ToString(3));

    /// <summary>
    /// Marks <paramref name="activity"/> failed with <paramref name="exception"/>'s message, and
    /// records the exception (type, message, stack) unless it is a refused argument: a client's
    /// mistake is said in the status alone, as the logs say it without a stack trace.
    /// </summary>
    public static void Fail(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        if (exception is not ArgumentException)
        {
            activity.AddException(exception);
        }
    }
}
