using System.Globalization;
using Pml.GraphEvents.AspNetCore;
using Pml.GraphEvents.QuikGraph;

namespace Pml.GraphEvents.Server;

/// <summary>
/// What the graph is for (DESIGN §9): <c>GET /graph/next</c> and <c>/graph/previous</c> (the tools that
/// usually follow or precede one), <c>GET /graph/paths</c> (the most likely chains between two). Each
/// answer is computed on one snapshot and stamped with its <c>as_of_event_id</c>. A missing parameter,
/// an unknown tool or a <c>k</c> outside 1..20 is the client's mistake: 400 with the reason.
/// </summary>
internal static class QueryEndpoints
{
    public const int MaxK = 20;

    public static void MapQueryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/graph/next", (IToolGraphEngine engine, HttpContext context, string? tool, string? k) =>
            Transitions(engine.Snapshot, context, tool, k, next: true)).RequireCors(GraphEventStreamOptions.CorsPolicyName);
        endpoints.MapGet("/graph/previous", (IToolGraphEngine engine, HttpContext context, string? tool, string? k) =>
            Transitions(engine.Snapshot, context, tool, k, next: false)).RequireCors(GraphEventStreamOptions.CorsPolicyName);
        endpoints.MapGet("/graph/paths", (IToolGraphEngine engine, HttpContext context, string? from, string? to, string? k) =>
        {
            var graph = engine.Snapshot;
            if (Refuse(graph, ("from", from), ("to", to)) is { } refused)
            {
                return refused;
            }

            if (!TryParseK(k, 3, out var count, out var badK))
            {
                return badK;
            }

            context.Response.Headers.CacheControl = "no-store";
            var chains = string.Equals(from, to, StringComparison.Ordinal) ? [] : graph.GetLikelyChains(from!, to!, count);
            var body = new PathsResponse(from!, to!, graph.AsOfEventId, [.. chains.Select(c => new PathResponse(c.ToolIds, c.Probability))]);
            return Results.Json(body, ServerJsonContext.Default.PathsResponse);
        }).RequireCors(GraphEventStreamOptions.CorsPolicyName);
    }

    private static IResult Transitions(ToolGraphSnapshot graph, HttpContext context, string? tool, string? k, bool next)
    {
        if (Refuse(graph, ("tool", tool)) is { } refused)
        {
            return refused;
        }

        if (!TryParseK(k, 5, out var count, out var badK))
        {
            return badK;
        }

        context.Response.Headers.CacheControl = "no-store";
        var transitions = (next ? graph.GetNextTools(tool!, count) : graph.GetPreviousTools(tool!, count)).Select(TransitionResponse.From).ToArray();
        var body = new NextToolsResponse(tool!, graph.AsOfEventId, next ? transitions : null, next ? null : transitions);
        return Results.Json(body, ServerJsonContext.Default.NextToolsResponse);
    }

    /// <summary>400 when a tool parameter is missing or names a tool the graph does not have.</summary>
    internal static IResult? Refuse(ToolGraphSnapshot graph, params (string Name, string? Value)[] tools)
    {
        foreach (var (name, value) in tools)
        {
            if (string.IsNullOrEmpty(value))
            {
                return Problem($"The query parameter '{name}' (a tool id) is required.");
            }

            if (!graph.ContainsTool(value))
            {
                return Problem($"'{Printable(value)}' ({name}) is not a tool of the graph.");
            }
        }

        return null;
    }

    /// <summary>Reads <c>k</c>: absent means <paramref name="fallback"/>; otherwise a whole number in 1..20.</summary>
    internal static bool TryParseK(string? k, int fallback, out int count, out IResult refused)
    {
        refused = Results.Empty;
        count = fallback;
        if (k is null)
        {
            return true;
        }

        if (int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count is >= 1 and <= MaxK)
        {
            return true;
        }

        refused = Problem($"k must be a whole number from 1 to {MaxK} (was '{Printable(k)}').");
        return false;
    }

    private static IResult Problem(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad query", detail: detail);

    // A tool id is echoed back in an error: bounded and without control characters.
    private static string Printable(string value)
    {
        var shown = value.Length > 100 ? value[..100] + "…" : value;
        return string.Concat(shown.Select(static c => char.IsControl(c) ? '?' : c));
    }
}
