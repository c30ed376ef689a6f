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
    /// <c>?types=</c> filter), CORS preflights are answered from <see cref="GraphEventStreamOptions.AllowedOrigins"/>,
    /// and other methods get 405. Needs <c>services.AddGraphEvents().AddGraphEventStream()</c>.
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

        group.MapMethods(string.Empty, HttpMethodsAllowed.Rejected, static context =>
            {
                ErrorResponses.MethodNotAllowed(context.Response);
                return Task.CompletedTask;
            })
            .WithDisplayName($"Graph event stream {pattern} (other methods)")
            .ExcludeFromDescription();

        return group;
    }
}
