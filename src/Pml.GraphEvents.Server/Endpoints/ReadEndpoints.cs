using Pml.GraphEvents.AspNetCore;

namespace Pml.GraphEvents.Server;

/// <summary><c>GET /graph</c> and <c>GET /healthz</c>.</summary>
internal static class ReadEndpoints
{
    public static void MapReadEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/graph", (IToolGraphEngine engine, HttpContext context) =>
        {
            // A snapshot is current only for an instant: never let a cache serve an old one.
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(GraphResponse.From(engine.Snapshot), ServerJsonContext.Default.GraphResponse);
        }).RequireCors(GraphEventStreamOptions.CorsPolicyName); // a dashboard served elsewhere reads the snapshot with the stream

        endpoints.MapGet("/healthz", (IToolGraphEngine engine, IGraphEventBroadcaster broadcaster) =>
        {
            var graph = engine.Snapshot;
            return Results.Json(new HealthResponse("ok", broadcaster.SubscriberCount, graph.Nodes.Count, graph.Edges.Count), ServerJsonContext.Default.HealthResponse);
        });

        endpoints.MapGet("/stats", (IGraphEventBroadcaster broadcaster) => Results.Json(broadcaster.GetStatistics()));
    }
}
