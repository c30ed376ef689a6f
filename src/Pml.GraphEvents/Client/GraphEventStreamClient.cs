using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pml.GraphEvents;

/// <summary>
/// Reads a graph event stream (<c>GET /events/stream</c>) over an <see cref="HttpClient"/> and
/// yields typed events, reconnecting for as long as the caller keeps reading: after a network
/// error, a closed stream, a server restart or a <c>503</c> at the subscriber limit, it waits
/// (the server's <c>retry:</c>, or <c>Retry-After</c>, with exponential backoff and jitter) and
/// reopens the stream with <c>Last-Event-ID</c>, so the server replays what it missed.
/// </summary>
/// <remarks>
/// <para>
/// When the server cannot replay the gap (the id is older than its replay window, or unknown
/// after a restart), the stream yields an <see cref="EventsLostEvent"/> right after
/// <see cref="ConnectedEvent"/>: refetch the graph's snapshot then. Heartbeats are yielded too
/// (they show the stream is alive); skip them if you do not need them.
/// </para>
/// <para>
/// The server's own event types are read typed when they are registered in
/// <see cref="GraphEventStreamClientOptions.CustomEventTypes"/>; a frame of any type the client does
/// not know is yielded as a <see cref="RawGraphEvent"/>, its name and data as they came.
/// </para>
/// <para>
/// One enumeration at a time. The <see cref="HttpClient"/> is not disposed by this class; its
/// <see cref="HttpClient.Timeout"/> applies to opening each stream, not to reading it.
/// </para>
/// </remarks>
public sealed partial class GraphEventStreamClient
{
    private readonly HttpClient _httpClient;
    private readonly GraphEventStreamClientOptions _options;
    private readonly ILogger _logger;
    private readonly GraphEventTypeRegistry _customTypes;
    private string? _lastEventId;
    private int _connections;

    /// <summary>Creates a client for the stream at <paramref name="streamUri"/>.</summary>
    /// <param name="httpClient">The client to send requests with (not disposed by this class).</param>
    /// <param name="streamUri">The stream's address, absolute, or relative to <see cref="HttpClient.BaseAddress"/>.</param>
    /// <param name="options">How to connect and reconnect; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Where connection attempts and failures are logged; nowhere when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public GraphEventStreamClient(HttpClient httpClient, Uri streamUri, GraphEventStreamClientOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(streamUri);
        options ??= new GraphEventStreamClientOptions();
        var failures = options.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        _httpClient = httpClient;
        _options = options;
        _customTypes = options.CustomEventTypes;
        _customTypes.Freeze();
        _logger = logger ?? NullLogger.Instance;
        StreamUri = streamUri;
        _lastEventId = string.IsNullOrEmpty(options.LastEventId) ? null : options.LastEventId;
    }

    /// <summary>The stream's address.</summary>
    public Uri StreamUri { get; }

    /// <summary>
    /// The id of the last event received (sent as <c>Last-Event-ID</c> on reconnect), or
    /// <see langword="null"/> before any. An opaque string, as the server issued it.
    /// </summary>
    public string? LastEventId => Volatile.Read(ref _lastEventId);

    /// <summary>How many times a stream was opened successfully (the first connection included).</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>
    /// Yields every event of the stream, reconnecting as needed, until <paramref name="cancellationToken"/>
    /// is cancelled (then it throws <see cref="OperationCanceledException"/>). An event whose type
    /// is neither the library's nor registered comes as a <see cref="RawGraphEvent"/>; a frame whose
    /// data does not fit its known type is logged and skipped.
    /// </summary>
    /// <param name="cancellationToken">Stops reading and closes the stream.</param>
    public async IAsyncEnumerable<GraphEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var failedAttempts = 0;
        TimeSpan? serverRetry = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TimeSpan? retryAfter = null;
            var received = false;
            HttpResponseMessage? response = null;
            try
            {
                response = await OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                LogConnectFailed(StreamUri, ex.Message);
            }

            if (response is not null)
            {
                using (response)
                {
                    if (response.StatusCode == HttpStatusCode.OK && IsEventStream(response))
                    {
                        Interlocked.Increment(ref _connections);
                        LogConnected(StreamUri, LastEventId);
                        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                        await using (stream.ConfigureAwait(false))
                        {
                            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                            var parser = SseParser.Create(stream, ParseItem);
                            var items = parser.EnumerateAsync(idle.Token).GetAsyncEnumerator(idle.Token);
                            await using (items.ConfigureAwait(false))
                            {
                                while (true)
                                {
                                    bool moved;
                                    try
                                    {
                                        // The idle timer runs only while waiting for the server:
                                        // time the caller spends on an event is not silence.
                                        idle.CancelAfter(_options.IdleTimeout);
                                        moved = await items.MoveNextAsync().ConfigureAwait(false);
                                        idle.CancelAfter(Timeout.InfiniteTimeSpan);
                                    }
                                    catch (Exception ex) when (IsTransient(ex, cancellationToken))
                                    {
                                        LogStreamBroken(StreamUri, ex.Message);
                                        break;
                                    }

                                    if (!moved)
                                    {
                                        LogStreamEnded(StreamUri);
                                        break;
                                    }

                                    if (parser.ReconnectionInterval > TimeSpan.Zero && parser.ReconnectionInterval != Timeout.InfiniteTimeSpan)
                                    {
                                        serverRetry = parser.ReconnectionInterval;
                                    }

                                    var item = items.Current;
                                    // As an EventSource does: the id is kept as sent (a frame without one keeps the
                                    // last), except one with a NUL, which the SSE specification says to ignore.
                                    if (!string.IsNullOrEmpty(item.EventId) && !item.EventId.Contains('\0', StringComparison.Ordinal))
                                    {
                                        Volatile.Write(ref _lastEventId, item.EventId);
                                    }

                                    if (item.Data is { } graphEvent)
                                    {
                                        // A stream that reached "connected" worked: the next failure starts the backoff over.
                                        received = true;
                                        yield return graphEvent;
                                    }
                                }
                            }
                        }
                    }
                    else
                    {
                        retryAfter = response.Headers.RetryAfter?.Delta;
                        LogRefused(StreamUri, (int)response.StatusCode, retryAfter);
                    }
                }
            }

            failedAttempts = received ? 0 : failedAttempts + 1;
            // Retry-After is a minimum; up to 20 % more spreads the clients a 503 turned away, so they
            // do not all come back in the same instant.
            var delay = retryAfter is { } minimum
                ? minimum * (1 + (Random.Shared.NextDouble() * 0.2))
                : Backoff(serverRetry ?? _options.ReconnectDelay, failedAttempts);
            LogReconnecting(StreamUri, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> OpenAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, RequestUri());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        if (LastEventId is { } id)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", id);
        }

        return await _httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    private Uri RequestUri()
    {
        if (_options.EventTypes is not { Count: > 0 } types)
        {
            return StreamUri;
        }

        var text = StreamUri.OriginalString;
        var separator = text.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return new Uri($"{text}{separator}types={string.Join(',', types)}", StreamUri.IsAbsoluteUri ? UriKind.Absolute : UriKind.Relative);
    }

    private GraphEvent? ParseItem(string eventType, ReadOnlySpan<byte> data)
    {
        try
        {
            return GraphEventJson.Deserialize(eventType, data, _customTypes) ?? GraphEventJson.ReadRaw(eventType, data);
        }
        catch (JsonException ex)
        {
            // One malformed frame should not cost the whole stream; it is a server bug worth a warning.
            LogMalformed(eventType, ex.Message);
            return null;
        }
    }

    private TimeSpan Backoff(TimeSpan baseDelay, int failedAttempts)
    {
        // failedAttempts is 0 after a stream that worked and closed: wait the base delay once.
        var exponent = Math.Min(Math.Max(failedAttempts - 1, 0), 16);
        var ms = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, exponent), _options.MaxReconnectDelay.TotalMilliseconds);
        var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(ms * jitter, _options.MaxReconnectDelay.TotalMilliseconds));
    }

    private static bool IsEventStream(HttpResponseMessage response) =>
        string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);

    // Everything the network can throw at a long-lived stream is worth a reconnect; only the
    // caller's own cancellation ends the enumeration.
    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && ex is HttpRequestException or IOException or OperationCanceledException or ObjectDisposedException;

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to {Uri} (resuming after event id {LastEventId}; empty for none)")]
    private partial void LogConnected(Uri uri, string? lastEventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot connect to {Uri}: {Reason}")]
    private partial void LogConnectFailed(Uri uri, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Uri} answered {StatusCode} (Retry-After {RetryAfter})")]
    private partial void LogRefused(Uri uri, int statusCode, TimeSpan? retryAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stream from {Uri} broke: {Reason}")]
    private partial void LogStreamBroken(Uri uri, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The server closed the stream from {Uri}")]
    private partial void LogStreamEnded(Uri uri);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconnecting to {Uri} in {DelayMs} ms")]
    private partial void LogReconnecting(Uri uri, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a malformed '{EventType}' frame: {Reason}")]
    private partial void LogMalformed(string eventType, string reason);
}
