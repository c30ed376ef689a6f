using System.Net;
using System.Text;

namespace Pml.GraphEvents.Tests.Client;

/// <summary>An HTTP handler that answers each request with the next scripted response and records the requests.</summary>
internal sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] script) : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<HttpRequestMessage> _requests = [];

    public IReadOnlyList<HttpRequestMessage> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>A 200 event stream whose body is <paramref name="body"/>; the stream ends after it, as a closed connection does.</summary>
    public static Func<HttpRequestMessage, HttpResponseMessage> Stream(string body) => _ =>
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/event-stream");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    };

    /// <summary>A 503 like the stream endpoint's at its subscriber limit.</summary>
    public static Func<HttpRequestMessage, HttpResponseMessage> Full(TimeSpan retryAfter) => _ =>
    {
        var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            Content = new StringContent("""{"error":"Too many clients","max":1}""", Encoding.UTF8, "application/json"),
        };
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(retryAfter);
        return response;
    };

    /// <summary>A refused connection, as when the server is down.</summary>
    public static Func<HttpRequestMessage, HttpResponseMessage> Refused() => _ => throw new HttpRequestException("Connection refused");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        int index;
        lock (_gate)
        {
            _requests.Add(request);
            index = _requests.Count - 1;
        }

        if (index >= script.Length)
        {
            // Past the script: a stream that never sends anything, until the reader gives up.
            return Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith<HttpResponseMessage>(_ => throw new OperationCanceledException(cancellationToken), TaskScheduler.Default);
        }

        return Task.FromResult(script[index](request));
    }
}
