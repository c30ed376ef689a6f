using System.Collections.Immutable;

namespace Pml.GraphEvents.Server;

/// <summary>
/// The embedded sample: about fifty tools of MCP-style servers (<c>filesystem:read_file</c>,
/// <c>git:commit</c>, ...) and the workflows the simulator replays. Embedded, so the server runs
/// with no set-up from any working directory.
/// </summary>
internal sealed class SampleCatalog
{
    private SampleCatalog(ImmutableArray<ToolNode> tools, ImmutableArray<ImmutableArray<string>> workflows)
    {
        Tools = tools;
        Workflows = workflows;
    }

    public ImmutableArray<ToolNode> Tools { get; }

    /// <summary>Typical tool sequences; each is a chain (every tool depends on the one before it).</summary>
    public ImmutableArray<ImmutableArray<string>> Workflows { get; }

    public static SampleCatalog Load()
    {
        using var stream = typeof(SampleCatalog).Assembly.GetManifestResourceStream("Catalog.sample-catalog.json")
            ?? throw new InvalidOperationException("The embedded sample catalog is missing from the server assembly.");
        using var document = JsonDocument.Parse(stream);
        var tools = ImmutableArray.CreateBuilder<ToolNode>();
        foreach (var server in document.RootElement.GetProperty("servers").EnumerateObject())
        {
            foreach (var name in server.Value.EnumerateArray())
            {
                var toolName = name.GetString()!;
                tools.Add(new ToolNode($"{server.Name}:{toolName}", toolName, server.Name));
            }
        }

        var workflows = ImmutableArray.CreateBuilder<ImmutableArray<string>>();
        foreach (var workflow in document.RootElement.GetProperty("workflows").EnumerateArray())
        {
            workflows.Add([.. workflow.EnumerateArray().Select(tool => tool.GetString()!)]);
        }

        return new SampleCatalog(tools.ToImmutable(), workflows.ToImmutable());
    }
}
