namespace Pml.GraphEvents.Server;

/// <summary>The body of <c>GET /graph</c>: one consistent snapshot of the graph.</summary>
internal sealed record GraphResponse(
    long Version,
    IReadOnlyList<GraphResponse.Node> Nodes,
    IReadOnlyList<GraphResponse.Edge> Edges,
    GraphResponse.MetricsSummary Metrics)
{
    public static GraphResponse From(ToolGraphSnapshot snapshot)
    {
        var nodes = new Node[snapshot.Nodes.Count];
        for (var i = 0; i < nodes.Length; i++)
        {
            var tool = snapshot.Nodes[i];
            nodes[i] = new Node(tool.Id, tool.Name, tool.ServerId, snapshot.PageRank[i], snapshot.Communities[i]);
        }

        var edges = snapshot.Edges.Select(e => new Edge(e.From, e.To, e.Confidence, e.ObservedCount)).ToArray();
        var m = snapshot.Metrics;
        return new GraphResponse(snapshot.Version, nodes, edges, new MetricsSummary(m.NodeCount, m.EdgeCount, m.Density, m.CommunitiesCount, m.PageRankTop));
    }

    /// <summary>A tool, with its PageRank and community.</summary>
    internal sealed record Node(string Id, string? Name, string? ServerId, double Pagerank, int Community);

    /// <summary>An edge <c>from → to</c>.</summary>
    internal sealed record Edge(string From, string To, double Confidence, int ObservedCount);

    /// <summary>The same fields as <c>metrics_updated</c>.</summary>
    internal sealed record MetricsSummary(
        int NodeCount,
        int EdgeCount,
        double Density,
        int CommunitiesCount,
        [property: System.Text.Json.Serialization.JsonPropertyName("pagerank_top_10")] IReadOnlyList<ToolScore> PagerankTop10);
}
