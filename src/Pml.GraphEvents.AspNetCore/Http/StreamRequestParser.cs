using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>Reads what a stream request asks for: where to resume, and which event types.</summary>
internal static class StreamRequestParser
{
    public const string LastEventIdHeader = "Last-Event-ID";
    public const string LastEventIdQuery = "last_event_id";
    public const string TypesQuery = "types";

    /// <summary>Longer than every type name joined by commas, with room to spare; anything longer is not a list of types.</summary>
    public const int MaxTypesLength = 512;

    /// <summary>
    /// The Last-Event-ID header, or the <c>last_event_id</c> query parameter when the header is
    /// absent. The header wins: an EventSource keeps its first URL on every reconnect, so the
    /// query holds the first request's id while the header holds the latest.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="raw">The value found, malformed or not, for logging.</param>
    /// <returns>The id, or <see langword="null"/> when absent or malformed (not a non-negative 64-bit integer).</returns>
    public static long? LastEventId(HttpRequest request, out string? raw)
    {
        raw = request.Headers.TryGetValue(LastEventIdHeader, out var header) ? header.ToString()
            : request.Query.TryGetValue(LastEventIdQuery, out var query) ? query.ToString()
            : null;

        // NumberStyles.None: digits only, no sign, no spaces, no thousands separators. An
        // overflowing value fails to parse. Either way the client starts live instead of failing.
        return raw is not null && long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    /// <summary>
    /// The <c>types</c> filter: comma-separated names, trimmed, empty entries ignored. Returns
    /// <see langword="false"/> with an error message when it is too long or names unknown types.
    /// </summary>
    public static bool TryParseTypes(HttpRequest request, out IReadOnlyCollection<string>? types, [NotNullWhen(false)] out string? error, out IReadOnlyList<string> unknown)
    {
        types = null;
        error = null;
        unknown = [];
        if (!request.Query.TryGetValue(TypesQuery, out var values) || StringValues.IsNullOrEmpty(values))
        {
            return true;
        }

        var text = values.ToString();
        if (text.Length > MaxTypesLength)
        {
            error = $"The '{TypesQuery}' parameter is longer than {MaxTypesLength} characters.";
            return false;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        List<string>? bad = null;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (GraphEventTypes.IsKnown(part))
            {
                names.Add(part);
            }
            else if (!(bad ??= []).Contains(part))
            {
                bad.Add(part);
            }
        }

        if (bad is not null)
        {
            unknown = bad;
            error = $"Unknown event type(s) in '{TypesQuery}': {string.Join(", ", bad)}. Known types: {string.Join(", ", GraphEventTypes.All)}.";
            return false;
        }

        // Only commas and spaces: no filter, as if the parameter were absent.
        types = names.Count == 0 ? null : names;
        return true;
    }
}
