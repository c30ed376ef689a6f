using System.Net.ServerSentEvents;

namespace Pml.GraphEvents.Testing;

/// <summary>One open stream read with the framework's <see cref="SseParser"/>, every read bounded by a deadline.</summary>
internal sealed class SseClient : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly IAsyncEnumerator<SseItem<string>> _items;
    private readonly CancellationTokenSource _cts;
    private Task<bool>? _pending;

    private SseClient(HttpResponseMessage response, Stream body, CancellationTokenSource cts)
    {
        Response = response;
        _cts = cts;
        _items = SseParser.Create(body).EnumerateAsync(cts.Token).GetAsyncEnumerator(cts.Token);
    }

    public HttpResponseMessage Response { get; }

    public static async Task<SseClient> OpenAsync(HttpClient client, Uri uri, Action<HttpRequestMessage>? configure = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("text/event-stream");
        configure?.Invoke(request);
        using var headersTimeout = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        headersTimeout.CancelAfter(Deadline);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headersTimeout.Token);
        var body = await response.Content.ReadAsStreamAsync(cts.Token);
        return new SseClient(response, body, cts);
    }

    /// <summary>The next event, or <see langword="null"/> at the end of the stream.</summary>
    public async Task<SseItem<string>?> NextAsync()
    {
        var next = _pending = _items.MoveNextAsync().AsTask();
        if (await Task.WhenAny(next, Task.Delay(Deadline, TestContext.Current.CancellationToken)) != next)
        {
            await _cts.CancelAsync();
            Assert.Fail("No event arrived before the deadline.");
        }

        return await next ? _items.Current : null;
    }

    public async Task<SseItem<string>> ReadAsync()
    {
        var item = await NextAsync();
        Assert.True(item.HasValue, "The stream ended.");
        return item.Value;
    }

    public async Task<List<SseItem<string>>> ReadAsync(int count)
    {
        var items = new List<SseItem<string>>(count);
        for (var i = 0; i < count; i++)
        {
            items.Add(await ReadAsync());
        }

        return items;
    }

    /// <summary>Aborts the request, as a closed browser tab does.</summary>
    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        Response.Dispose();

        // A read in flight (another task's) must finish before the enumerator may be disposed.
        try
        {
            if (_pending is not null)
            {
                await _pending;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
        }

        await _items.DisposeAsync();
        _cts.Dispose();
    }
}
