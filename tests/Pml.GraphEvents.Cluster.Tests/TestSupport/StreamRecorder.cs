using System.Globalization;
using System.Net;

namespace Pml.GraphEvents.Cluster.Tests.TestSupport;

/// <summary>One frame as a client received it, and on which of its connections (1 = the first).</summary>
internal sealed record Frame(string EventType, string? Id, string Data, int Connection)
{
    /// <summary>A string property of the frame's JSON data.</summary>
    public string? Text(string property)
    {
        using var document = JsonDocument.Parse(Data);
        return document.RootElement.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    /// <summary>An integer property of the frame's JSON data.</summary>
    public long? Number(string property)
    {
        using var document = JsonDocument.Parse(Data);
        return document.RootElement.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;
    }

    /// <summary>Whether this frame is part of the shared stream (the same on every instance), not a per-client or per-instance frame.</summary>
    public bool IsShared => Id is not null && EventType is not ("connected" or "heartbeat" or "events_lost");
}

/// <summary>How a recorder sends its first <c>Last-Event-ID</c>.</summary>
internal enum ResumeBy
{
    Header,
    Query,
}

/// <summary>
/// A client of one instance's <c>GET /events/stream</c> that keeps every frame it receives.
/// With <c>reconnect: true</c> it behaves like a browser's EventSource: when the stream ends or
/// fails, it connects again to the same instance with the last id it received as <c>Last-Event-ID</c>,
/// and counts its connections, so a test sees both what was delivered and whether the client was
/// cut off.
/// </summary>
internal sealed class StreamRecorder : IAsyncDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };

    private readonly List<Frame> _frames = [];
    private readonly CancellationTokenSource _cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
    private readonly ClusterNode _node;
    private readonly bool _reconnect;
    private readonly Task _reading;
    private string? _lastId;
    private int _connections;
    private int _ended;

    private StreamRecorder(ClusterNode node, string? lastEventId, ResumeBy by, bool reconnect)
    {
        _node = node;
        _lastId = lastEventId;
        _reconnect = reconnect;
        _reading = Task.Run(() => ReadAsync(by));
    }

    public ClusterNode Node => _node;

    /// <summary>How many times the stream was opened with a 200 (more than one: the client was cut off and came back).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Whether a stream that does not reconnect has ended (or failed).</summary>
    public bool Ended => Volatile.Read(ref _ended) == 1;

    /// <summary>The last id received, what the client would send to resume.</summary>
    public string? LastId
    {
        get
        {
            lock (_frames)
            {
                return _lastId;
            }
        }
    }

    /// <summary>Opens a stream on <paramref name="node"/> and waits for its <c>connected</c> frame.</summary>
    public static async Task<StreamRecorder> OpenAsync(ClusterNode node, string? lastEventId = null, ResumeBy by = ResumeBy.Header, bool reconnect = false)
    {
        var recorder = new StreamRecorder(node, lastEventId, by, reconnect);
        await Eventually.HoldsAsync(
            () => recorder.Count("connected") >= 1 || recorder.Ended,
            () => $"a stream on {node} connected");
        Assert.False(recorder.Count("connected") == 0, $"The stream on {node} ended before its connected frame.");
        return recorder;
    }

    public List<Frame> Frames()
    {
        lock (_frames)
        {
            return [.. _frames];
        }
    }

    public int Count(string eventType)
    {
        lock (_frames)
        {
            return _frames.Count(f => f.EventType == eventType);
        }
    }

    /// <summary>The <c>workflow_id</c> of every <c>workflow_executed</c> frame, in the order received.</summary>
    public List<string> Workflows() => [.. Frames().Where(f => f.EventType == "workflow_executed").Select(f => f.Text("workflow_id")!)];

    /// <summary>The edge frames of one edge: (event type, observed_count), in the order received.</summary>
    public List<(string Type, long? ObservedCount)> EdgeFrames(string from, string to) =>
        [.. Frames()
            .Where(f => f.EventType is "edge_created" or "edge_updated" && f.Text("from_tool_id") == from && f.Text("to_tool_id") == to)
            .Select(f => (f.EventType, f.EventType == "edge_created" ? 1L : f.Number("observed_count")))];

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await _reading;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
        }

        _cts.Dispose();
    }

    public override string ToString() => $"the stream on {_node.Name}";

    private async Task ReadAsync(ResumeBy by)
    {
        var first = true;
        while (!_cts.IsCancellationRequested)
        {
            try
            {
                var uri = _node.Uri("events/stream");
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Accept.ParseAdd("text/event-stream");
                if (LastId is { } lastId)
                {
                    if (first && by == ResumeBy.Query)
                    {
                        request.RequestUri = _node.Uri($"events/stream?last_event_id={Uri.EscapeDataString(lastId)}");
                    }
                    else
                    {
                        request.Headers.Add("Last-Event-ID", lastId);
                    }
                }

                first = false;
                using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _cts.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var connection = Interlocked.Increment(ref _connections);
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_cts.Token));
                    await ReadFramesAsync(reader, connection);
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or ObjectDisposedException || (ex is OperationCanceledException && !_cts.IsCancellationRequested))
            {
                // Cut off (the instance was killed, or closed the stream): a browser would come back.
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!_reconnect)
            {
                Volatile.Write(ref _ended, 1);
                return;
            }

            // EventSource's own retry delay, not a wait in the test: the test waits on conditions.
            try
            {
                await Task.Delay(200, _cts.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ReadFramesAsync(StreamReader reader, int connection)
    {
        string? id = null, type = null, data = null;
        while (await reader.ReadLineAsync(_cts.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (type is not null || data is not null)
                {
                    lock (_frames)
                    {
                        _frames.Add(new Frame(type ?? "message", id, data ?? "", connection));
                        if (id is not null)
                        {
                            _lastId = id;
                        }
                    }
                }

                id = type = data = null;
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = data is null ? line[6..] : string.Create(CultureInfo.InvariantCulture, $"{data}\n{line[6..]}");
            }

            // retry: lines and : comments are not frames.
        }
    }
}
