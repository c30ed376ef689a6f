using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>Maps the Server-Sent Events stream of graph events.</summary>
public static class GraphEventStreamEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves the graph event stream at <paramref name="pattern"/>: <c>GET</c> opens a
    /// <c>text/event-stream</c> (with <c>Last-Event-ID</c> or <c>?last_event_id=</c> resume and a
    /// <c>?types=</c> filter), CORS preflights are answered from <see cref="GraphEventStreamOptions.AllowedOrigins"/>
    /// (for any method, allowing GET only), <c>OPTIONS</c> gets 204 with <c>Allow: GET, OPTIONS</c>
    /// and other methods get 405 with the same <c>Allow</c>. Needs <c>services.AddGraphEvents().AddGraphEventStream()</c>.
    /// </summary>
    /// <param name="endpoints">The app, or any endpoint route builder.</param>
    /// <param name="pattern">The route, for example <c>/events/stream</c>.</param>
    /// <returns>A builder for the stream's endpoints, so <c>RequireAuthorization</c>, <c>RequireRateLimiting</c> and the like compose.</returns>
    /// <exception cref="InvalidOperationException"><c>AddGraphEventStream()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapGraphEventStream(this IEndpointRouteBuilder endpoints, string pattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var handler = endpoints.ServiceProvider.GetService<GraphEventStreamHandler>()
            ?? throw new InvalidOperationException("MapGraphEventStream needs its services: call services.AddGraphEvents().AddGraphEventStream() when you configure services.");

        var group = endpoints.MapGroup(pattern);

        // One endpoint for GET that also accepts CORS preflights for GET: routing sends
        // "OPTIONS + Access-Control-Request-Method: GET" here, and the handler answers it.
        group.MapMethods(string.Empty, [HttpMethodsAllowed.Get], handler.HandleAsync)
            .WithMetadata(new HttpMethodMetadata([HttpMethodsAllowed.Get], acceptCorsPreflight: true))
            .WithDisplayName($"Graph event stream {pattern}")
            .ExcludeFromDescription();

        // Every other method, whatever its name, and the preflights for them ("OPTIONS +
        // Access-Control-Request-Method: POST"), go to the same handler: an empty method list
        // matches any method (and, with acceptCorsPreflight, any preflight), and the higher order
        // lets the GET endpoint win a GET. So routing never answers on this path itself (its 405
        // lists the methods of every endpoint here in Allow, and it answers a preflight it cannot
        // place with 404 without Vary), every answer carries CORS headers and the same Allow, and
        // an app's fallback cannot answer here.
        group.Map(string.Empty, handler.HandleAsync)
            .WithMetadata(new HttpMethodMetadata([], acceptCorsPreflight: true))
            .WithOrder(1)
            .WithDisplayName($"Graph event stream {pattern} (other methods)")
            .ExcludeFromDescription();

        return group;
    }
}
