using System.Net.Http.Json;

namespace Pml.GraphEvents.Server;

/// <summary>
/// The terminal commands' way to a server's query endpoints: one GET, the JSON body on success, the
/// problem's reason (or the connection's failure) on stderr with exit code 1 otherwise.
/// </summary>
internal static class QueryClient
{
    /// <summary>The server's base address from a command's argument (<c>http://127.0.0.1:5080</c>, a trailing slash or not).</summary>
    public static Uri? BaseAddress(string argument) =>
        Uri.TryCreate(argument.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    /// <summary>GETs <paramref name="relative"/>; <see langword="null"/> (after printing why) when there is no answer to print.</summary>
    public static async Task<JsonElement?> GetAsync(Uri server, string relative, TextWriter error, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var response = await http.GetAsync(new Uri(relative, UriKind.Relative), cancellationToken);
            var body = response.Content.Headers.ContentType?.MediaType is "application/json" or "application/problem+json"
                ? await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)
                : (JsonElement?)null;
            if (response.IsSuccessStatusCode && body is { } json)
            {
                return json;
            }

            var reason = body is { } problem && problem.TryGetProperty("detail", out var detail) ? detail.GetString() : response.ReasonPhrase;
            await error.WriteLineAsync($"{(int)response.StatusCode} from {new Uri(server, relative)}: {reason}");
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"Cannot reach {server}: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"No answer from {server} within 30 seconds.");
        }

        return null;
    }

    /// <summary>Reads <c>--k N</c> among <paramref name="args"/>; <paramref name="fallback"/> when absent.</summary>
    public static string K(string[] args, int fallback)
    {
        var at = Array.IndexOf(args, "--k");
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
