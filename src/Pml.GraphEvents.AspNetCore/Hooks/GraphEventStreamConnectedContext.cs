using Microsoft.AspNetCore.Http;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>A stream whose subscription was accepted and whose response has not started: <see cref="GraphEventStreamEvents.OnConnected"/>.</summary>
public sealed class GraphEventStreamConnectedContext : GraphEventStreamContext
{
    internal GraphEventStreamConnectedContext(HttpContext httpContext, string clientId, string? lastEventId, IReadOnlyCollection<string>? eventTypes)
        : base(httpContext, clientId, lastEventId, eventTypes)
    {
    }

    /// <summary>The status code given to <see cref="Reject"/>; <see langword="null"/> while the stream may open.</summary>
    public int? RejectedStatusCode { get; private set; }

    /// <summary>
    /// Refuses the stream: once the hook returns, the subscription is disposed and the request is answered
    /// with <paramref name="statusCode"/>, an empty body, <c>Cache-Control: no-store</c> and the CORS headers
    /// (so a cross-origin page can read the status); <see cref="GraphEventStreamEvents.OnDisconnected"/> is not
    /// called. Set further headers (<c>WWW-Authenticate</c>, <c>Retry-After</c>) on the response yourself;
    /// do not write its body. An <c>EventSource</c> that gets any answer but 200 closes for good.
    /// </summary>
    /// <param name="statusCode">A client or server error, 400 to 599 (403 for a user who may not read this stream).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not between 400 and 599.</exception>
    public void Reject(int statusCode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        RejectedStatusCode = statusCode;
    }
}
