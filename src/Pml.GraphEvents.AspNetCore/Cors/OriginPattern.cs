using System.Diagnostics.CodeAnalysis;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>
/// One allowed origin: a scheme, an exact host and a port or any port. An origin is compared
/// after <see cref="Uri"/> has parsed it, never as text, so <c>http://localhost:3000.evil.com</c>
/// (not a valid origin) and <c>http://127.0.0.1.evil.com</c> (another host) can never pass
/// for <c>http://localhost:*</c> or <c>http://127.0.0.1:*</c>, as they would with a careless
/// regular expression or prefix match.
/// </summary>
internal sealed class OriginPattern
{
    private const string AnyPortSuffix = ":*";

    private OriginPattern(string? scheme, string? host, int? port)
    {
        Scheme = scheme;
        Host = host;
        Port = port;
    }

    /// <summary>The scheme, or <see langword="null"/> for the pattern <c>*</c> (any origin).</summary>
    public string? Scheme { get; }

    public string? Host { get; }

    /// <summary>The port, or <see langword="null"/> for any port.</summary>
    public int? Port { get; }

    public bool IsAnyOrigin => Scheme is null;

    public static bool TryParse(string? text, [NotNullWhen(true)] out OriginPattern? pattern, [NotNullWhen(false)] out string? problem)
    {
        pattern = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "is empty.";
            return false;
        }

        if (text == "*")
        {
            pattern = new OriginPattern(null, null, null);
            problem = null;
            return true;
        }

        var anyPort = text.EndsWith(AnyPortSuffix, StringComparison.Ordinal);
        var origin = anyPort ? text[..^AnyPortSuffix.Length] : text;
        if (!TryParseOrigin(origin, out var uri))
        {
            problem = "is not an origin: use scheme://host, scheme://host:port or scheme://host:* with http or https, no path.";
            return false;
        }

        if (anyPort && !uri.IsDefaultPort)
        {
            problem = "names a port and a wildcard port.";
            return false;
        }

        pattern = new OriginPattern(uri.Scheme, uri.Host, anyPort ? null : uri.Port);
        problem = null;
        return true;
    }

    /// <summary>Parses the value of an <c>Origin</c> header: <c>scheme://host[:port]</c> and nothing else.</summary>
    public static bool TryParseOrigin(string? text, [NotNullWhen(true)] out Uri? origin)
    {
        origin = null;
        if (string.IsNullOrEmpty(text) || text.EndsWith('/') || !Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            // "null" (sandboxed documents, file: pages) is not absolute and lands here too.
            return false;
        }

        if ((uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.UserInfo.Length != 0
            || uri.PathAndQuery != "/"
            || uri.Fragment.Length != 0)
        {
            return false;
        }

        origin = uri;
        return true;
    }

    public bool Matches(Uri origin) =>
        IsAnyOrigin
        || (string.Equals(origin.Scheme, Scheme, StringComparison.Ordinal)
            && string.Equals(origin.Host, Host, StringComparison.OrdinalIgnoreCase)
            && (Port is null || origin.Port == Port));
}
