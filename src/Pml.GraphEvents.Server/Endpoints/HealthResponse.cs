namespace Pml.GraphEvents.Server;

/// <summary>The body of <c>GET /healthz</c>.</summary>
internal sealed record HealthResponse(string Status, int Subscribers, int Nodes, int Edges);
