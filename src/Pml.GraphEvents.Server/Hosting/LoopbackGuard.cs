using System.Net;

namespace Pml.GraphEvents.Server;

/// <summary>
/// Without an API key anyone who can reach the server can feed its graph, so the server then
/// listens on loopback only: it refuses to start on a configured address that is not.
/// </summary>
internal static class LoopbackGuard
{
    /// <summary>The configured URLs that are not loopback (empty when every one is).</summary>
    public static List<string> NonLoopbackUrls(IConfiguration configuration) => ConfiguredUrls(configuration).FindAll(url => !IsLoopback(url));

    /// <summary>Every configured URL: <c>urls</c> and each <c>Kestrel:Endpoints:*:Url</c>.</summary>
    public static List<string> ConfiguredUrls(IConfiguration configuration)
    {
        List<string> urls = [];
        if (configuration[WebHostDefaults.ServerUrlsKey] is { } list)
        {
            urls.AddRange(list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { } url)
            {
                urls.Add(url);
            }
        }

        return urls;
    }

    internal static bool IsLoopback(string url)
    {
        // Kestrel's wildcards ("http://*:80", "http://+:80") do not parse as URIs; they are not loopback anyway.
        if (!Uri.TryCreate(url.Replace("*", "wildcard.invalid", StringComparison.Ordinal).Replace("+", "wildcard.invalid", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.Host;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }
}
