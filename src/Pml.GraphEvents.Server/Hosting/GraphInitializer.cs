namespace Pml.GraphEvents.Server;

/// <summary>
/// Loads the stored graph (publishing <c>graph_synced</c>) and registers the sample catalog's
/// tools before the server takes requests. Registered before the simulator, so the simulator
/// never runs on an empty graph: hosted services start one after the other.
/// </summary>
internal sealed partial class GraphInitializer(IToolGraphEngine engine, SampleCatalog catalog, ILogger<GraphInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var synced = await engine.SyncAsync(cancellationToken);
        var missing = catalog.Tools.Where(tool => !synced.ContainsTool(tool.Id)).ToList();
        if (missing.Count > 0)
        {
            await engine.RegisterToolsAsync(missing, cancellationToken);
        }

        var graph = engine.Snapshot;
        LogLoaded(graph.Nodes.Count, graph.Edges.Count, missing.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Graph loaded: {Nodes} tools ({Added} from the sample catalog), {Edges} edges")]
    private partial void LogLoaded(int nodes, int edges, int added);
}
