using Microsoft.AspNetCore.Http;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>What the hooks of <see cref="GraphEventStreamEvents"/> are told about a stream.</summary>
public abstract class GraphEventStreamContext
{
    private protected GraphEventStreamContext(HttpContext httpContext, string clientId, string? lastEventId, IReadOnlyCollection<string>? eventTypes)
    {
        HttpContext = httpContext;
        ClientId = clientId;
        LastEventId = lastEventId;
        EventTypes = eventTypes;
    }

    /// <summary>The stream's request: its <c>User</c>, <c>Connection</c>, headers and <c>RequestAborted</c>.</summary>
    public HttpContext HttpContext { get; }

    /// <summary>The stream's client id, the <c>client_id</c> of its <c>connected</c> frame.</summary>
    public string ClientId { get; }

    /// <summary>The event id the client resumes after (<c>Last-Event-ID</c> or <c>?last_event_id=</c>); <see langword="null"/> when it starts live.</summary>
    public string? LastEventId { get; }

    /// <summary>The event types of <c>?types=</c>; <see langword="null"/> for every type.</summary>
    public IReadOnlyCollection<string>? EventTypes { get; }
}
