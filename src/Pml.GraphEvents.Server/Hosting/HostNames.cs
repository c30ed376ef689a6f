namespace Pml.GraphEvents.Server;

/// <summary>
/// The <c>Host</c> names the server answers (ASP.NET Core host filtering). Without an API key only
/// loopback names and the configured URLs' hosts: a browser page whose own name an attacker
/// rebinds to 127.0.0.1 sends that name as <c>Host</c>, so refusing it stops the page from
/// feeding or reading a graph it could otherwise reach as "same origin".
/// </summary>
internal static class HostNames
{
    /// <summary>Names that can only mean this machine: browsers resolve <c>*.localhost</c> to loopback themselves (RFC 6761).</summary>
    public static readonly string[] Loopback = ["localhost", "*.localhost", "127.0.0.1", "[::1]"];

    /// <summary>Splits a <c>;</c>-separated list; the error, or <see langword="null"/> when every entry is a host name pattern.</summary>
    public static string? Parse(string? list, out List<string> hosts)
    {
        hosts = [.. (list ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        foreach (var host in hosts)
        {
            // A bracketed IPv6 address holds colons; anything else with one names a port, which host filtering does not take.
            var isIPv6 = host.StartsWith('[') && host.EndsWith(']');
            if (host.Contains('/', StringComparison.Ordinal) || host.Any(char.IsWhiteSpace) || (!isIPv6 && host.Contains(':', StringComparison.Ordinal)))
            {
                return $"'{host}' is not a host name (no scheme, port or path; '*.example.com' or '*' for wildcards).";
            }
        }

        return null;
    }

    /// <summary>The allowed hosts: with a key the configured list or any; without one, loopback, the URLs' hosts and the configured list.</summary>
    public static List<string> Allowed(ServerOptions options, IEnumerable<string> urls)
    {
        Parse(options.AllowedHosts, out var configured);
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
        {
            return configured.Count > 0 ? configured : ["*"];
        }

        var allowed = new List<string>(Loopback);
        foreach (var url in urls)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && !allowed.Contains(uri.Host, StringComparer.OrdinalIgnoreCase))
            {
                allowed.Add(uri.Host);
            }
        }

        allowed.AddRange(configured);
        return allowed;
    }
}
