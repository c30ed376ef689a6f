namespace Pml.GraphEvents.AspNetCore;

/// <summary>The allowed origins of the stream, as the predicate of its CORS policy.</summary>
internal sealed class OriginAllowList
{
    private readonly OriginPattern[] _patterns;

    public OriginAllowList(IEnumerable<string> origins)
    {
        // Options are validated at start-up, so an entry that does not parse cannot get here;
        // skipping one is still safer than allowing anything.
        _patterns = [.. origins.Select(static o => OriginPattern.TryParse(o, out var p, out _) ? p : null).OfType<OriginPattern>()];
    }

    public bool AllowsAnyOrigin => _patterns.Any(static p => p.IsAnyOrigin);

    public bool IsAllowed(string origin)
    {
        if (!OriginPattern.TryParseOrigin(origin, out var uri))
        {
            return false;
        }

        foreach (var pattern in _patterns)
        {
            if (pattern.Matches(uri))
            {
                return true;
            }
        }

        return false;
    }
}
