namespace Pml.GraphEvents.AspNetCore;

/// <summary>
/// Hooks called by the stream endpoint when a stream opens and when it ends, set on
/// <see cref="GraphEventStreamOptions.Events"/>: who connected (<see cref="GraphEventStreamContext.HttpContext"/>'s
/// <c>User</c> after <c>RequireAuthorization()</c>), with which client id, and how the stream ended.
/// </summary>
/// <remarks>
/// <para>
/// The shape of ASP.NET Core's <c>CookieAuthenticationEvents</c> and <c>JwtBearerEvents</c>: settable
/// <see cref="Func{T, TResult}"/> properties for a lambda in <c>AddGraphEventStream(o =&gt; o.Events.OnConnected = ...)</c>,
/// and virtual methods that call them, for a subclass that takes its dependencies by constructor.
/// Not an interface resolved from DI per stream: the hooks run on every stream, and one object held
/// by the options costs nothing per request.
/// </para>
/// <para>
/// Order, for each <c>GET</c> that passes the filter, the per-address limit and the subscriber limit:
/// the subscription is accepted, <see cref="Connected"/> runs (nothing is sent yet, so it may still
/// refuse the stream with <see cref="GraphEventStreamConnectedContext.Reject"/>), the stream is written,
/// the subscription is disposed and then <see cref="Disconnected"/> runs. <see cref="Disconnected"/> runs
/// exactly once for every <see cref="Connected"/> that returned without rejecting and without throwing,
/// however the stream ended: client gone, write timeout, lifetime, lagging, host stopping.
/// </para>
/// <para>
/// Both run on the request's own task, never on the broadcaster's: a slow hook delays only its own
/// stream. While <see cref="Connected"/> runs, events published meanwhile wait in the subscription's
/// buffer (so none is missed), and a hook slower than the buffer is deep ends that subscription as lagging,
/// as a slow reader would.
/// </para>
/// </remarks>
public class GraphEventStreamEvents
{
    /// <summary>
    /// Called when a subscription was accepted, before any byte of the response is sent. An exception
    /// propagates to ASP.NET Core (a bug in the hook: the server logs it and answers 500); the
    /// subscription is disposed first, and <see cref="OnDisconnected"/> is not called.
    /// </summary>
    public Func<GraphEventStreamConnectedContext, Task> OnConnected { get; set; } = static _ => Task.CompletedTask;

    /// <summary>
    /// Called after a stream that <see cref="OnConnected"/> let open has ended and its subscription
    /// was disposed. The response is over by then, so an exception cannot reach the client: it is
    /// logged (event 9, Error) and otherwise ignored, and the stream's end stays as it was.
    /// </summary>
    public Func<GraphEventStreamDisconnectedContext, Task> OnDisconnected { get; set; } = static _ => Task.CompletedTask;

    /// <summary>Invokes <see cref="OnConnected"/>.</summary>
    /// <param name="context">The stream about to open.</param>
    public virtual Task Connected(GraphEventStreamConnectedContext context) => OnConnected(context);

    /// <summary>Invokes <see cref="OnDisconnected"/>.</summary>
    /// <param name="context">The stream that ended.</param>
    public virtual Task Disconnected(GraphEventStreamDisconnectedContext context) => OnDisconnected(context);
}
