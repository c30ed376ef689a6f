using Pml.GraphEvents.AspNetCore;
using Pml.GraphEvents.Redis;

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

        endpoints.MapGet("/healthz", async (IToolGraphEngine engine, IGraphEventBroadcaster broadcaster, IServiceProvider services, CancellationToken cancellationToken) =>
        {
            var graph = engine.Snapshot;
            HealthResponse.ClusterHealth? cluster = null;
            var status = "ok";
            if (services.GetService<IRedisCluster>() is { } redis)
            {
                var s = await redis.GetStatusAsync(cancellationToken);
                cluster = new HealthResponse.ClusterHealth(s.InstanceId, s.RedisReachable ? "reachable" : "unreachable", s.Learner, s.IsLearner, s.LearnerLag, s.OutageBuffer, s.ConnectedClients, s.AsOfEventId);

                // Still serving (the stream, the graph as it was), but ingest answers 503 and nothing is learned.
                status = s.RedisReachable ? "ok" : "degraded";
            }

            return Results.Json(new HealthResponse(status, broadcaster.SubscriberCount, graph.Nodes.Count, graph.Edges.Count, cluster), ServerJsonContext.Default.HealthResponse);
        });

        endpoints.MapGet("/stats", (IGraphEventBroadcaster broadcaster) => Results.Json(broadcaster.GetStatistics()));
    }
}
