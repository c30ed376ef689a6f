using System.Net;

namespace Pml.GraphEvents.Server;

/// <summary>Reads <see cref="ServerOptions.TrustedProxies"/>: IP addresses and CIDR networks separated by <c>;</c>.</summary>
internal static class ProxyNetworks
{
    /// <summary>The error naming the first entry that is neither, or <see langword="null"/>.</summary>
    public static string? Parse(string? list, out List<IPAddress> proxies, out List<IPNetwork> networks)
    {
        proxies = [];
        networks = [];
        foreach (var entry in (list ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (entry.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (!entry.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(entry, out var address))
            {
                proxies.Add(address);
            }
            else
            {
                return $"'{entry}' is neither an IP address nor a network (10.0.0.0/8).";
            }
        }

        return null;
    }
}
