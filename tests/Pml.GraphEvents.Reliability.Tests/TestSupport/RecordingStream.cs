using System.Net;

namespace Pml.GraphEvents.Reliability.Tests.TestSupport;

/// <summary>
/// One open stream whose body bytes are all kept, to be checked with <see cref="SseFrameChecker"/>:
/// a witness that watches the stream while a test attacks the server.
/// </summary>
internal sealed class RecordingStream : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly MemoryStream _bytes = new();
    private readonly HttpResponseMessage _response;
    private readonly Task _reading;
    private int _disposed;

    private RecordingStream(HttpResponseMessage response, Stream body, CancellationTokenSource cts)
    {
        _response = response;
        _cts = cts;
        _reading = Task.Run(() => ReadAsync(body));
    }

    public bool Ended { get; private set; }

    public static async Task<RecordingStream> OpenAsync(HttpClient client, Uri uri, Action<HttpRequestMessage>? configure = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("text/event-stream");
        configure?.Invoke(request);
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        headers.CancelAfter(Eventually.Deadline);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new RecordingStream(response, await response.Content.ReadAsStreamAsync(cts.Token), cts);
    }

    /// <summary>The frames received so far, every byte checked.</summary>
    public List<ReceivedFrame> Frames()
    {
        byte[] copy;
        lock (_bytes)
        {
            copy = _bytes.ToArray();
        }

        return SseFrameChecker.Check(copy);
    }

    /// <summary>How many complete frames of a type have arrived, without checking them (cheap enough to poll).</summary>
    public int CountFrames(string eventType)
    {
        lock (_bytes)
        {
            var span = _bytes.GetBuffer().AsSpan(0, (int)_bytes.Length);
            var marker = System.Text.Encoding.ASCII.GetBytes($"\nevent: {eventType}\n");
            var count = 0;
            int at;
            while ((at = span.IndexOf(marker)) >= 0)
            {
                // A frame counts once its blank line has arrived: a large frame's header comes
                // well before its end, and a caller that then parses it must find it complete.
                span = span[(at + marker.Length)..];
                var end = span.IndexOf("\n\n"u8);
                if (end < 0)
                {
                    break;
                }

                count++;
                span = span[(end + 2)..];
            }

            return count;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _cts.CancelAsync();
        _response.Dispose();
        try
        {
            await _reading;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
        }

        _cts.Dispose();
    }

    private async Task ReadAsync(Stream body)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await body.ReadAsync(buffer, _cts.Token);
            if (read == 0)
            {
                Ended = true;
                return;
            }

            lock (_bytes)
            {
                _bytes.Write(buffer, 0, read);
            }
        }
    }
}
