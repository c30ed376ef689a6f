using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>Answers <c>GET</c> (the stream), <c>OPTIONS</c>, CORS preflights and the 405s on the stream path.</summary>
internal sealed class GraphEventStreamHandler
{
    private readonly IGraphEventSubscriber _subscriber;
    private readonly GraphEventTypeRegistry _customTypes;
    private readonly int _maxTypesLength;
    private readonly IReadOnlyList<string> _knownTypes;
    private readonly ICorsService _corsService;
    private readonly ICorsPolicyProvider _corsPolicyProvider;
    private readonly CorsPolicy _fallbackPolicy;
    private readonly GraphEventStreamWriterOptions _writerOptions;
    private readonly TimeSpan _retryAfter;
    private readonly GraphEventStreamEvents _events;
    private readonly StreamsPerAddress? _perAddress;
    private readonly LogThrottle _perAddressLog;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;

    public GraphEventStreamHandler(
        IGraphEventSubscriber subscriber,
        ICorsService corsService,
        ICorsPolicyProvider corsPolicyProvider,
        IOptions<GraphEventStreamOptions> options,
        TimeProvider timeProvider,
        ILogger<GraphEventStreamHandler> logger,
        IHostApplicationLifetime? lifetime = null)
    {
        var value = options.Value;
        _subscriber = subscriber;

        // The broadcaster's registry is frozen: what ?types= may name is fixed for the endpoint's life.
        _customTypes = subscriber.CustomEventTypes;
        _maxTypesLength = StreamRequestParser.MaxTypesLength(_customTypes);
        _knownTypes = [.. GraphEventTypes.All, .. _customTypes.Names];
        _corsService = corsService;
        _corsPolicyProvider = corsPolicyProvider;
        _fallbackPolicy = GraphEventStreamCorsSetup.Build(value);
        // The endpoint's options are the writer's settings plus its own: handed to the writer as they are.
        _writerOptions = value;
        _retryAfter = value.RetryAfter;
        _events = value.Events;
        _perAddress = value.MaxStreamsPerAddress is { } max ? new StreamsPerAddress(max) : null;
        _perAddressLog = new LogThrottle(timeProvider, TimeSpan.FromMinutes(1));
        _timeProvider = timeProvider;
        _logger = logger;
        _stopping = lifetime?.ApplicationStopping ?? CancellationToken.None;
    }

    /// <summary>The per-address counts, when <see cref="GraphEventStreamOptions.MaxStreamsPerAddress"/> is set (tests).</summary>
    internal StreamsPerAddress? PerAddress => _perAddress;

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var aborted = context.RequestAborted;

        // CORS is applied here rather than by the CORS middleware, so the endpoint is right
        // without app.UseCors(), and every answer (503 and 400 included) carries the headers
        // that let a cross-origin page read it.
        var policy = await _corsPolicyProvider.GetPolicyAsync(context, GraphEventStreamOptions.CorsPolicyName).ConfigureAwait(false) ?? _fallbackPolicy;
        var cors = _corsService.EvaluatePolicy(context, policy);
        _corsService.ApplyResult(cors, response);
        AddVaryOrigin(response.Headers);
        if (cors.IsPreflightRequest)
        {
            // For any requested method, as ASP.NET Core's CORS middleware answers: 204, and (for
            // an allowed origin) Access-Control-Allow-Methods: GET, so a browser refuses a POST
            // itself. The answer depends on Origin only (not on the requested method or headers),
            // so Vary: Origin is all a cache needs.
            response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        if (HttpMethods.IsOptions(request.Method))
        {
            ErrorResponses.Options(response);
            return;
        }

        if (!HttpMethods.IsGet(request.Method))
        {
            ErrorResponses.MethodNotAllowed(response);
            return;
        }

        if (!StreamRequestParser.TryParseTypes(request, _customTypes, _maxTypesLength, out var types, out var typesError, out var unknown))
        {
            GraphEventStreamLog.BadTypes(_logger, typesError);
            await ErrorResponses.WriteBadTypesAsync(response, typesError, unknown, _knownTypes, aborted).ConfigureAwait(false);
            return;
        }

        var lastEventId = StreamRequestParser.LastEventId(request, out var malformed);
        if (malformed && _logger.IsEnabled(LogLevel.Debug))
        {
            GraphEventStreamLog.MalformedLastEventId(_logger, Printable(lastEventId!));
        }

        // Counted before subscribing, so that one address's flood is turned away before it takes
        // subscriber slots from everyone else; released in the finally below, whatever happens.
        var address = context.Connection.RemoteIpAddress;
        StreamsPerAddress.AddressKey? counted = null;
        if (_perAddress is not null && !_perAddress.TryAcquire(address, out counted))
        {
            await RefusePerAddressAsync(response, address, aborted).ConfigureAwait(false);
            return;
        }

        try
        {
            await StreamAsync(context, lastEventId, types).ConfigureAwait(false);
        }
        finally
        {
            _perAddress?.Release(counted);
        }
    }

    /// <summary>At most 64 characters of a client's value, for a log line.</summary>
    private static string Printable(string value) => value.Length > 64 ? value[..64] + "…" : value;

    private async Task StreamAsync(HttpContext context, string? lastEventId, IReadOnlyCollection<string>? types)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        GraphEventSubscription? subscription;
        try
        {
            subscription = _subscriber.TrySubscribe(new GraphEventSubscribeOptions { LastEventId = lastEventId, EventTypes = types }, out var subscribed) ? subscribed : null;
        }
        catch (ObjectDisposedException)
        {
            // The host is stopping: ask the client to come back, as at the limit.
            await ErrorResponses.WriteShuttingDownAsync(response, _retryAfter, aborted).ConfigureAwait(false);
            return;
        }

        var remoteIp = context.Connection.RemoteIpAddress?.ToString();
        if (subscription is null)
        {
            GraphEventStreamLog.Refused(_logger, remoteIp, _subscriber.MaxSubscribers);
            await ErrorResponses.WriteTooManyClientsAsync(response, _subscriber.MaxSubscribers, _retryAfter, aborted).ConfigureAwait(false);
            return;
        }

        var started = _timeProvider.GetTimestamp();
        var hook = new GraphEventStreamConnectedContext(context, subscription.ClientId, lastEventId, types);
        var opened = false;
        GraphEventStreamResult? ended = null;
        try
        {
            // After the subscription is accepted, so the hook knows the client id and events published
            // while it runs wait in the subscription (none is missed); before any byte is sent, so it can
            // still refuse. An exception propagates (the hook's bug: ASP.NET Core logs it and answers 500)
            // after the finally below has disposed the subscription: a throwing hook leaks no slot.
            await _events.Connected(hook).ConfigureAwait(false);
            if (hook.RejectedStatusCode is { } status)
            {
                GraphEventStreamLog.RejectedByHook(_logger, subscription.ClientId, remoteIp, status);
                ErrorResponses.Rejected(response, status);
                return;
            }

            opened = true;
            ended = await WriteStreamAsync(context, subscription, lastEventId, types, remoteIp).ConfigureAwait(false);
        }
        finally
        {
            // Whatever happened, the subscription must not outlive the request.
            subscription.Dispose();
            if (opened)
            {
                // Once for every stream the hook let open, however it ended. Only an unexpected
                // exception of the writer leaves no result (it never throws for a client that went
                // away); the hook then hears OutputClosed with nothing counted, and the exception
                // propagates after it.
                var result = ended ?? new GraphEventStreamResult(GraphEventStreamEndReason.OutputClosed, SubscriptionEndReason.Disposed, 0, 0);
                await DisconnectedAsync(hook, result, _timeProvider.GetElapsedTime(started)).ConfigureAwait(false);
            }
        }
    }

    private async Task<GraphEventStreamResult> WriteStreamAsync(HttpContext context, GraphEventSubscription subscription, string? lastEventId, IReadOnlyCollection<string>? types, string? remoteIp)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        var started = _timeProvider.GetTimestamp();
        GraphEventStreamResult result;
        try
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            var headers = response.Headers;
            headers.CacheControl = "no-cache";

            // nginx buffers proxied responses unless told otherwise; an SSE stream must not wait
            // in a proxy buffer. Identity keeps response compression, which buffers, away.
            headers["X-Accel-Buffering"] = "no";
            headers.ContentEncoding = "identity";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            if (_logger.IsEnabled(LogLevel.Information))
            {
                GraphEventStreamLog.Connected(_logger, subscription.ClientId, remoteIp, lastEventId is null ? null : Printable(lastEventId), types is null ? "all" : string.Join(",", types), _subscriber.SubscriberCount);
            }

            // A stream never ends by itself, and a host that stops waits for running requests:
            // ending streams when the application stops keeps shutdown from waiting for its timeout.
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(aborted, _stopping);

            // The writer sends the headers with retry: and the connected frame at once.
            result = await subscription.WriteToAsync(response.BodyWriter, _writerOptions, ended.Token).ConfigureAwait(false);
        }
        finally
        {
            // Whatever happened, the subscription must not outlive the request.
            subscription.Dispose();
        }

        if (result.EndReason == GraphEventStreamEndReason.WriteTimedOut)
        {
            GraphEventStreamLog.Evicted(_logger, subscription.ClientId, "write timeout");
            context.Abort();
        }
        else if (result.SubscriptionEndReason == SubscriptionEndReason.Lagging)
        {
            GraphEventStreamLog.Evicted(_logger, subscription.ClientId, "lagging");
        }

        GraphEventStreamLog.Disconnected(_logger, subscription.ClientId, result.EndReason, result.SubscriptionEndReason, result.FramesWritten, result.BytesWritten, _timeProvider.GetElapsedTime(started));
        return result;
    }

    private async Task DisconnectedAsync(GraphEventStreamConnectedContext connected, GraphEventStreamResult result, TimeSpan duration)
    {
        // The response is over: an exception here has no one to answer, and letting it propagate
        // would turn a clean end (the lifetime's, say) into a reset connection. Logged, not thrown.
        try
        {
            await _events.Disconnected(new GraphEventStreamDisconnectedContext(connected, result, duration)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A user's hook may throw anything; see above.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            GraphEventStreamLog.DisconnectedHookFailed(_logger, ex, connected.ClientId);
        }
    }

    private Task RefusePerAddressAsync(HttpResponse response, System.Net.IPAddress? address, CancellationToken aborted)
    {
        // One client in a reconnect loop, or a deliberate flood, is refused many times a second:
        // each refusal at Debug, and at Information one line a minute with how many there were.
        var max = _perAddress!.Max;
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            GraphEventStreamLog.RefusedPerAddress(_logger, address?.ToString(), max);
        }

        if (_logger.IsEnabled(LogLevel.Information) && _perAddressLog.TryPass(out var refused))
        {
            GraphEventStreamLog.RefusedPerAddressSummary(_logger, refused, address?.ToString(), max);
        }

        return ErrorResponses.WriteTooManyStreamsFromAddressAsync(response, max, _retryAfter, aborted);
    }

    private static void AddVaryOrigin(IHeaderDictionary headers)
    {
        // Always, not only when an origin was allowed: a cache must not serve an answer made
        // for one origin (or for none) to another.
        foreach (var value in headers.Vary)
        {
            if (value is not null && value.Contains(HeaderNames.Origin, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }

        headers.Append(HeaderNames.Vary, HeaderNames.Origin);
    }
}
