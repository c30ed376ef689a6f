namespace Pml.GraphEvents;

/// <summary>A tool: a node of the tool graph.</summary>
/// <param name="Id">The tool's id, unique in the graph (compared ordinally).</param>
/// <param name="Name">A display name, if any.</param>
/// <param name="ServerId">The id of the server that provides the tool, if any.</param>
/// <param name="Metadata">Free-form string properties, if any (stored as a JSON object).</param>
public sealed record ToolNode(
    string Id,
    string? Name = null,
    string? ServerId = null,
    IReadOnlyDictionary<string, string>? Metadata = null)
{
    /// <summary>The tool's id, unique in the graph (compared ordinally).</summary>
    public string Id { get; init; } = !string.IsNullOrEmpty(Id) ? Id : throw new ArgumentException("A tool id must not be null or empty.", nameof(Id));
}
