using System.Diagnostics;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The <c>Pml.GraphEvents.Redis</c> activity source: an execution followed across instances. The
/// instance that takes a <c>POST</c> appends its executions in a span whose context is stored with
/// each entry (field <c>c</c>, a W3C <c>traceparent</c>); the learner, on whichever instance holds
/// the lease, receives them in a span that continues that trace (the engine's learn span and the
/// events' append are its children), and stores the append's context with the unit's first event;
/// every instance's backplane reads the unit in a span that continues it again. Nothing is stored
/// or made while no listener takes this source. Names and tags: docs/operations.md ("Traces").
/// </summary>
internal static class RedisClusterTracing
{
    /// <summary>The source name, the same as the Redis meter's.</summary>
    public const string SourceName = "Pml.GraphEvents.Redis";

    /// <summary>An ingest appending a body's executions to the shared executions log.</summary>
    public const string ExecutionsAppend = "pml.graph_events.redis.executions.append";

    /// <summary>The learner taking a read of the executions log to learn it.</summary>
    public const string ExecutionsReceive = "pml.graph_events.redis.executions.receive";

    /// <summary>The learner appending a learned unit's events to the shared event stream.</summary>
    public const string EventsAppend = "pml.graph_events.redis.events.append";

    /// <summary>A backplane reading a learned unit's events from the shared event stream and handing them to its broadcaster.</summary>
    public const string EventsRead = "pml.graph_events.redis.events.read";

    /// <summary>The stream entry field that carries a span's context (W3C <c>traceparent</c>).</summary>
    public const string ContextField = "c";

    /// <summary>Entries in the read or append.</summary>
    public const string EntriesTag = "pml.graph_events.redis.entries";

    /// <summary>The stream id of the first entry the span is about.</summary>
    public const string StreamIdTag = "pml.graph_events.redis.stream_id";

    public static readonly ActivitySource Source = new(SourceName, typeof(RedisClusterTracing).Assembly.GetName().Version?.ToString(3));

    /// <summary>The W3C <c>traceparent</c> of <paramref name="activity"/>, to store with an entry, or <see cref="RedisValue.EmptyString"/> for none.</summary>
    public static RedisValue ContextOf(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C, Id: { } id } ? id : RedisValue.EmptyString;

    /// <summary>Reads the context stored with <paramref name="entry"/>, if any and well formed.</summary>
    public static bool TryReadContext(StreamEntry entry, out ActivityContext context)
    {
        var value = entry[ContextField];
        if (value.IsNullOrEmpty)
        {
            context = default;
            return false;
        }

        // From Redis, so from another instance, or anyone with write access to the stream: parsed
        // strictly, and a malformed one is ignored rather than trusted or thrown.
        return ActivityContext.TryParse((string?)value, null, isRemote: true, out context);
    }

    /// <summary>Marks <paramref name="activity"/> failed with <paramref name="exception"/>.</summary>
    public static void Fail(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.AddException(exception);
    }
}
