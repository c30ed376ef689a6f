using Microsoft.AspNetCore.Http;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>A stream that ended, its subscription disposed: <see cref="GraphEventStreamEvents.OnDisconnected"/>.</summary>
public sealed class GraphEventStreamDisconnectedContext : GraphEventStreamContext
{
    internal GraphEventStreamDisconnectedContext(GraphEventStreamConnectedContext connected, GraphEventStreamResult result, TimeSpan duration)
        : base(connected.HttpContext, connected.ClientId, connected.LastEventId, connected.EventTypes)
    {
        Result = result;
        Duration = duration;
    }

    /// <summary>Why the stream ended (<see cref="GraphEventStreamResult.EndReason"/>, <see cref="GraphEventStreamResult.SubscriptionEndReason"/>) and what it sent.</summary>
    public GraphEventStreamResult Result { get; }

    /// <summary>How long the stream was open, on the endpoint's <see cref="TimeProvider"/>.</summary>
    public TimeSpan Duration { get; }
}
