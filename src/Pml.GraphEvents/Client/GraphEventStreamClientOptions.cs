namespace Pml.GraphEvents;

/// <summary>How a <see cref="GraphEventStreamClient"/> connects and reconnects.</summary>
public sealed class GraphEventStreamClientOptions
{
    /// <summary>
    /// The first wait before reconnecting, until the server sends its own <c>retry:</c>, which then
    /// takes its place. Each failed attempt in a row doubles the wait (with ±20 % jitter, so many
    /// clients of a restarted server do not come back in step), up to <see cref="MaxReconnectDelay"/>.
    /// Default 1 second.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts. Default 30 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A stream that delivers nothing for this long is considered dead and is reopened: a server
    /// that vanished without closing the connection would otherwise hang the reader forever.
    /// Keep it above the server's heartbeat interval (30 seconds by default). Default 90 seconds;
    /// <see cref="Timeout.InfiniteTimeSpan"/> to never give up on a quiet stream.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Where to resume from on the first connection (an event id this client already has, as the
    /// server issued it; for example <c>as_of_event_id</c> of <c>GET /graph</c>), or
    /// <see langword="null"/> for live events only.
    /// </summary>
    public string? LastEventId { get; set; }

    /// <summary>
    /// The event types to receive (sent as <c>?types=</c>), or <see langword="null"/> for all: names
    /// from <see cref="GraphEventTypes"/> or <see cref="CustomEventTypes"/>.
    /// <c>connected</c>, <c>heartbeat</c> and <c>events_lost</c> always arrive.
    /// </summary>
    public IReadOnlyCollection<string>? EventTypes { get; set; }

    /// <summary>
    /// The server's own event types this client reads typed: register each as the server does, with
    /// its name and source-generated JSON contract. A frame of any other type the client does not
    /// know arrives as a <see cref="RawGraphEvent"/> (its name and data text). The client created
    /// with these options freezes it.
    /// </summary>
    public GraphEventTypeRegistry CustomEventTypes { get; } = new();

    /// <summary>Every problem with these options; empty when they are valid.</summary>
    internal List<string> Validate()
    {
        List<string> failures = [];
        if (ReconnectDelay < TimeSpan.Zero)
        {
            failures.Add($"{nameof(ReconnectDelay)} must not be negative (was {ReconnectDelay}).");
        }

        if (MaxReconnectDelay < ReconnectDelay)
        {
            failures.Add($"{nameof(MaxReconnectDelay)} must be at least {nameof(ReconnectDelay)} (was {MaxReconnectDelay}).");
        }

        if (IdleTimeout <= TimeSpan.Zero && IdleTimeout != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{nameof(IdleTimeout)} must be more than zero, or infinite (was {IdleTimeout}).");
        }

        if (EventTypes is not null)
        {
            foreach (var type in EventTypes)
            {
                if (!GraphEventTypes.IsKnown(type) && !CustomEventTypes.Contains(type))
                {
                    failures.Add($"{nameof(EventTypes)} names an event type that is neither one of {nameof(GraphEventTypes)} nor in {nameof(CustomEventTypes)}: '{(type is null ? "(null)" : GraphEventTypeRegistry.Printable(type))}'.");
                }
            }
        }

        return failures;
    }
}
