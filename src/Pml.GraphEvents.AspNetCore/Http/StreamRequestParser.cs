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

    /// <summary>
    /// Longer than every library type name joined by commas, with room to spare; anything longer is
    /// not a list of types. With a host's own types the bound grows to fit them (<see cref="MaxTypesLength(GraphEventTypeRegistry)"/>).
    /// </summary>
    public const int MinMaxTypesLength = 512;

    /// <summary>
    /// The longest <c>types</c> value worth reading: twice every known name joined by commas (the
    /// library's and <paramref name="customTypes"/>'), and at least <see cref="MinMaxTypesLength"/>.
    /// Computed once per endpoint: the registry is frozen.
    /// </summary>
    public static int MaxTypesLength(GraphEventTypeRegistry customTypes)
    {
        var joined = GraphEventTypes.All.Sum(n => n.Length + 1) + customTypes.Names.Sum(n => n.Length + 1);
        return Math.Max(MinMaxTypesLength, 2 * joined);
    }

    /// <summary>
    /// The Last-Event-ID header, or the <c>last_event_id</c> query parameter when the header is
    /// absent. The header wins, even when it is malformed and the query is not: an EventSource
    /// keeps its first URL on every reconnect, so the query holds the first request's id while the
    /// header holds the latest.
    /// </summary>
    /// <remarks>
    /// The value is handed to the broadcaster as it is: an id is an opaque string, and only the log
    /// that issued it can tell whether it is one of its own. One rule for every value that is not
    /// (another server's or a lost log's id, a malformed or future one, two headers, two query
    /// parameters, or values joined by a comma as a proxy folds repeated headers): the stream starts
    /// live and its first frame after <c>connected</c> is <c>events_lost</c> (<c>unknown_last_event_id</c>).
    /// Not a 400: an <c>EventSource</c> that gets any answer but 200 closes for good, and the id is one
    /// it was given (by a stream, or by something between), so it could never recover; and not
    /// silently live, because a client that asked to resume must learn that it did not. An empty
    /// value is no id (an EventSource sends none when it has none): live, without notice.
    /// </remarks>
    /// <param name="request">The request.</param>
    /// <param name="malformed"><see langword="true"/> when the value does not even have the form of an id (for a debug log line).</param>
    /// <returns>The value (repeated values joined by commas), or <see langword="null"/> when absent or empty.</returns>
    public static string? LastEventId(HttpRequest request, out bool malformed)
    {
        malformed = false;
        var values = request.Headers.TryGetValue(LastEventIdHeader, out var header) ? header
            : request.Query.TryGetValue(LastEventIdQuery, out var query) ? query
            : StringValues.Empty;
        if (values.Count == 0 || (values.Count == 1 && string.IsNullOrEmpty(values[0])))
        {
            return null;
        }

        var value = values.ToString();
        malformed = values.Count != 1 || !GraphEventId.TryParse(value, out _, out _);
        return value;
    }

    /// <summary>
    /// The <c>types</c> filter: comma-separated names, trimmed, empty entries ignored; a name is one
    /// of <see cref="GraphEventTypes"/> or registered in <paramref name="customTypes"/>. Returns
    /// <see langword="false"/> with an error message when it is longer than <paramref name="maxLength"/>
    /// or names unknown types.
    /// </summary>
    public static bool TryParseTypes(
        HttpRequest request,
        GraphEventTypeRegistry customTypes,
        int maxLength,
        out IReadOnlyCollection<string>? types,
        [NotNullWhen(false)] out string? error,
        out IReadOnlyList<string> unknown)
    {
        types = null;
        error = null;
        unknown = [];
        if (!request.Query.TryGetValue(TypesQuery, out var values) || StringValues.IsNullOrEmpty(values))
        {
            return true;
        }

        var text = values.ToString();
        if (text.Length > maxLength)
        {
            error = $"The '{TypesQuery}' parameter is longer than {maxLength} characters.";
            return false;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        List<string>? bad = null;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (GraphEventTypes.IsKnown(part) || customTypes.Contains(part))
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
            error = $"Unknown event type(s) in '{TypesQuery}': {string.Join(", ", bad)}. Known types: {string.Join(", ", [.. GraphEventTypes.All, .. customTypes.Names])}.";
            return false;
        }

        // Only commas and spaces: no filter, as if the parameter were absent.
        types = names.Count == 0 ? null : names;
        return true;
    }
}
