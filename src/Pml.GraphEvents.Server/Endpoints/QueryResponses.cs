namespace Pml.GraphEvents.Server;

/// <summary>The body of <c>GET /graph/next</c> and <c>GET /graph/previous</c> (one of the two lists is set).</summary>
internal sealed record NextToolsResponse(
    string ToolId,
    string? AsOfEventId,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<TransitionResponse>? Next,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<TransitionResponse>? Previous);

/// <summary>A step to (or from) another tool, with its probability from its source tool.</summary>
internal sealed record TransitionResponse(string ToolId, double Probability, double Confidence, int ObservedCount)
{
    public static TransitionResponse From(ToolTransition transition) =>
        new(transition.ToolId, transition.Probability, transition.ConfidenceScore, transition.ObservedCount);
}

/// <summary>The body of <c>GET /graph/paths</c>.</summary>
internal sealed record PathsResponse(string From, string To, string? AsOfEventId, IReadOnlyList<PathResponse> Paths);

/// <summary>A chain of tools and its probability (the product of its steps').</summary>
internal sealed record PathResponse(IReadOnlyList<string> ToolIds, double Probability);
