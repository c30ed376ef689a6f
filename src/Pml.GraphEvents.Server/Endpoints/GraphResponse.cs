namespace Pml.GraphEvents.Server;

/// <summary>
/// The body of <c>GET /graph</c>: one consistent snapshot of the graph, and the id of the last event
/// it reflects (<c>as_of_event_id</c>): stream with <c>?last_event_id=</c> that id and every later
/// change arrives exactly once.
/// </summary>
internal sealed record GraphResponse(
    long Version,
    string? AsOfEventId,
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

        var edges = snapshot.Edges.Select(e => new Edge(e.FromToolId, e.ToToolId, e.ConfidenceScore, e.ObservedCount)).ToArray();
        var m = snapshot.Metrics;
        return new GraphResponse(snapshot.Version, snapshot.AsOfEventId, nodes, edges, new MetricsSummary(m.NodeCount, m.EdgeCount, m.Density, m.CommunitiesCount, m.PageRankTop10));
    }

    /// <summary>A tool, with its PageRank and community.</summary>
    internal sealed record Node(string Id, string? Name, string? ServerId, double Pagerank, int Community);

    /// <summary>
    /// An edge <c>from → to</c>. The names are this response's wire schema (<c>from</c>, <c>to</c>,
    /// <c>confidence</c>, <c>observed_count</c>), kept as they are: the names of <see cref="ToolGraphEdge"/>
    /// follow the edge events' instead.
    /// </summary>
    internal sealed record Edge(string From, string To, double Confidence, int ObservedCount);

    /// <summary>The same fields as <c>metrics_updated</c>.</summary>
    internal sealed record MetricsSummary(
        int NodeCount,
        int EdgeCount,
        double Density,
        int CommunitiesCount,
        [property: System.Text.Json.Serialization.JsonPropertyName("pagerank_top_10")] IReadOnlyList<ToolScore> PageRankTop10);
}
