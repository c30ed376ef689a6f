using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>Source-generated log messages of the stream endpoint: no formatting cost when a level is off.</summary>
internal static partial class GraphEventStreamLog
{
    [LoggerMessage(1, LogLevel.Information, "Event stream client {ClientId} connected from {RemoteIp} (Last-Event-ID {LastEventId}, types {Types}); {Subscribers} subscribers")]
    public static partial void Connected(ILogger logger, string clientId, string? remoteIp, string? lastEventId, string types, int subscribers);

    [LoggerMessage(2, LogLevel.Information, "Event stream client {ClientId} disconnected: {EndReason} (subscription {SubscriptionEndReason}) after {Frames} frames, {Bytes} bytes in {Duration}")]
    public static partial void Disconnected(ILogger logger, string clientId, GraphEventStreamEndReason endReason, SubscriptionEndReason subscriptionEndReason, long frames, long bytes, TimeSpan duration);

    [LoggerMessage(3, LogLevel.Information, "Event stream client {ClientId} evicted: {Reason}. It reads too slowly or stopped reading; it may reconnect with Last-Event-ID")]
    public static partial void Evicted(ILogger logger, string clientId, string reason);

    [LoggerMessage(4, LogLevel.Information, "Event stream client from {RemoteIp} refused: the limit of {MaxSubscribers} subscribers is reached")]
    public static partial void Refused(ILogger logger, string? remoteIp, int maxSubscribers);

    [LoggerMessage(5, LogLevel.Debug, "Malformed Last-Event-ID {LastEventId}: the client starts with live events, told by events_lost (unknown_last_event_id)")]
    public static partial void MalformedLastEventId(ILogger logger, string lastEventId);

    [LoggerMessage(6, LogLevel.Debug, "Refused an event stream request: {Error}")]
    public static partial void BadTypes(ILogger logger, string error);

    [LoggerMessage(7, LogLevel.Debug, "Event stream client from {RemoteIp} refused with 429: its address has {MaxStreamsPerAddress} streams open")]
    public static partial void RefusedPerAddress(ILogger logger, string? remoteIp, int maxStreamsPerAddress);

    [LoggerMessage(8, LogLevel.Information, "{Refused} event stream request(s) refused with 429 since the last such message, the latest from {RemoteIp}: an address had {MaxStreamsPerAddress} streams open (GraphEvents:Stream:MaxStreamsPerAddress)")]
    public static partial void RefusedPerAddressSummary(ILogger logger, long refused, string? remoteIp, int maxStreamsPerAddress);

    [LoggerMessage(9, LogLevel.Error, "The OnDisconnected hook of event stream client {ClientId} failed; the stream had already ended")]
    public static partial void DisconnectedHookFailed(ILogger logger, Exception exception, string clientId);

    [LoggerMessage(10, LogLevel.Information, "Event stream client {ClientId} from {RemoteIp} rejected with {StatusCode} by the OnConnected hook")]
    public static partial void RejectedByHook(ILogger logger, string clientId, string? remoteIp, int statusCode);
}
