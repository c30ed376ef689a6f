using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The probe's HTTP client for everything but the streams: <c>POST /executions</c>, checked
/// (202, every execution accepted, or the run stops), and <c>GET /graph</c> for the catalog's tools
/// and the id of the last event the graph reflects.
/// </summary>
internal sealed class EndToEndIngestClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly Uri Executions = new("/executions", UriKind.Relative);
    private static readonly Uri Graph = new("/graph", UriKind.Relative);

    private readonly HttpClient _client;

    public EndToEndIngestClient(Uri address)
    {
        // Its own connection pool, apart from the streams': an open-loop run may have several POSTs in flight.
        _client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = int.MaxValue })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>Posts one body of <paramref name="executions"/> executions; throws unless all are accepted.</summary>
    public async Task PostAsync(byte[] body, int executions)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var response = await _client.PostAsync(Executions, content);
        var payload = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new EndToEndException($"POST /executions answered {(int)response.StatusCode}: {Truncate(payload)}");
        }

        using var answer = JsonDocument.Parse(payload);
        var accepted = answer.RootElement.GetProperty("accepted").GetArrayLength();
        if (accepted != executions)
        {
            throw new EndToEndException($"POST /executions accepted {accepted} of {executions}: {Truncate(payload)}");
        }
    }

    /// <summary>The graph's tools: on a fresh database, the server's sample catalog.</summary>
    public async Task<IReadOnlyList<string>> GetToolsAsync()
    {
        using var graph = await GetGraphAsync();
        return [.. graph.RootElement.GetProperty("nodes").EnumerateArray().Select(node => node.GetProperty("id").GetString()!)];
    }

    /// <summary>The id of the last event the graph reflects (<c>as_of_event_id</c>), as an offset in the log.</summary>
    public async Task<long> GetAsOfOffsetAsync()
    {
        using var graph = await GetGraphAsync();
        var id = graph.RootElement.GetProperty("as_of_event_id").GetString();
        return EndToEndEventId.TryParseOffset(id, out var offset)
            ? offset
            : throw new EndToEndException($"GET /graph: as_of_event_id {id ?? "null"} is not of the form <epoch>-<offset>.");
    }

    public void Dispose() => _client.Dispose();

    private async Task<JsonDocument> GetGraphAsync()
    {
        using var response = await _client.GetAsync(Graph);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new EndToEndException($"GET /graph answered {(int)response.StatusCode}");
        }

        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
    }

    private static string Truncate(byte[] payload) => System.Text.Encoding.UTF8.GetString(payload.AsSpan(0, Math.Min(300, payload.Length)));
}
