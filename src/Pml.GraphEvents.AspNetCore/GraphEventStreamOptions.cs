namespace Pml.GraphEvents.AspNetCore;

/// <summary>
/// Settings of the HTTP stream endpoint. Bound from the <c>GraphEvents:Stream</c> configuration
/// section by <c>AddGraphEventStream()</c> and validated when the host starts.
/// </summary>
public sealed class GraphEventStreamOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "GraphEvents:Stream";

    /// <summary>
    /// The name of the CORS policy built from <see cref="AllowedOrigins"/>. The stream endpoint
    /// applies it itself; use it with <c>RequireCors</c> on endpoints of your own (a snapshot
    /// endpoint, say) to give them the same origins.
    /// </summary>
    public const string CorsPolicyName = "Pml.GraphEvents.Stream";

    /// <summary>The origins allowed when <see cref="AllowedOrigins"/> is <see langword="null"/>: any port of localhost and 127.0.0.1.</summary>
    public static IReadOnlyList<string> DefaultAllowedOrigins { get; } = ["http://localhost:*", "http://127.0.0.1:*"];

    /// <summary>
    /// Browser origins that may read the stream cross-origin, each <c>scheme://host</c>,
    /// <c>scheme://host:port</c> or <c>scheme://host:*</c> (any port), or <c>*</c> for any origin.
    /// Matched on the parsed scheme, host and port, never as text. <see langword="null"/> (the
    /// default): <see cref="DefaultAllowedOrigins"/>; empty: no cross-origin reader.
    /// </summary>
    /// <remarks>A list property that starts as <see langword="null"/>, because configuration binding appends to a list that already has items, and the defaults could never be replaced.</remarks>
    public IList<string>? AllowedOrigins { get; set; }

    /// <summary>Sent as <c>retry:</c> when a stream opens. More than zero and at most one hour; default 3 seconds.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The longest one write to a client may take before the client is evicted as stalled.
    /// More than zero and at most one hour; default 10 seconds.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The <c>Retry-After</c> of a 503 answer at the subscriber limit (and of a 429 at <see cref="MaxStreamsPerAddress"/>), in whole seconds. 1 second to 1 hour; default 5 seconds.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Frames ready at once are flushed together up to about this many bytes. 1,024 to 16,777,216; default 65,536.</summary>
    public int MaxBatchBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The longest one stream stays open; then it closes cleanly and the client reconnects after
    /// <c>retry:</c> with <c>Last-Event-ID</c>, missing nothing (an <c>EventSource</c> and
    /// <c>GraphEventStreamClient</c> do so by themselves). Each stream's lifetime is drawn between nine
    /// tenths of this and this, so streams opened together do not reconnect together. It bounds
    /// how long a client that never reads holds a subscriber slot on a quiet stream, where
    /// <see cref="WriteTimeout"/> cannot see it. <see langword="null"/> (an empty value in
    /// configuration): no limit. At least 1 second and at most 24 hours; default 10 minutes.
    /// </summary>
    public TimeSpan? MaxStreamDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The most streams open at once from one remote address (<c>HttpContext.Connection.RemoteIpAddress</c>,
    /// as the forwarded-headers middleware left it); one more gets <c>429 Too Many Requests</c> with
    /// <c>Retry-After</c> (<see cref="RetryAfter"/>). An IPv4-mapped IPv6 address counts as its IPv4
    /// address; IPv6 addresses count by their /64 prefix (what one host or site is given).
    /// <see langword="null"/> (the default): no limit, because behind a reverse proxy that does not
    /// forward the client's address every client has the proxy's. 1 to 100,000.
    /// </summary>
    public int? MaxStreamsPerAddress { get; set; }

    /// <summary>
    /// Hooks called when a stream opens (<see cref="GraphEventStreamEvents.OnConnected"/>, which may
    /// refuse it) and when it ends (<see cref="GraphEventStreamEvents.OnDisconnected"/>). Set in code:
    /// <c>AddGraphEventStream(o =&gt; o.Events.OnConnected = context =&gt; ...)</c>, or replace it with a
    /// subclass of <see cref="GraphEventStreamEvents"/>. Not bound from configuration.
    /// </summary>
    public GraphEventStreamEvents Events { get; set; } = new();

    internal IReadOnlyList<string> EffectiveAllowedOrigins => AllowedOrigins is null ? DefaultAllowedOrigins : [.. AllowedOrigins];

    /// <summary>Every problem with these options, each naming the option; empty when they are valid.</summary>
    internal List<string> Validate()
    {
        List<string> failures = [];
        CheckDuration(failures, nameof(RetryInterval), RetryInterval, TimeSpan.FromMilliseconds(1));
        CheckDuration(failures, nameof(WriteTimeout), WriteTimeout, TimeSpan.FromMilliseconds(1));
        CheckDuration(failures, nameof(RetryAfter), RetryAfter, TimeSpan.FromSeconds(1));
        if (MaxBatchBytes is < 1024 or > 16 * 1024 * 1024)
        {
            failures.Add($"{SectionName}:{nameof(MaxBatchBytes)} must be between 1,024 and 16,777,216 (was {MaxBatchBytes:N0}).");
        }

        if (MaxStreamDuration is { } duration
            && (duration < TimeSpan.FromSeconds(1) || duration > TimeSpan.FromHours(24)))
        {
            failures.Add($"{SectionName}:{nameof(MaxStreamDuration)} must be at least 1 second and at most 24 hours, or empty for no limit (was {duration}).");
        }

        if (MaxStreamsPerAddress is < 1 or > 100_000)
        {
            failures.Add($"{SectionName}:{nameof(MaxStreamsPerAddress)} must be between 1 and 100,000, or empty for no limit (was {MaxStreamsPerAddress:N0}).");
        }

        // Null is the one bad value code can give these: caught at start, not at the first stream.
        if (Events is null)
        {
            failures.Add($"{SectionName}:{nameof(Events)} must not be null.");
        }
        else if (Events.OnConnected is null || Events.OnDisconnected is null)
        {
            failures.Add($"{SectionName}:{nameof(Events)}:{(Events.OnConnected is null ? nameof(GraphEventStreamEvents.OnConnected) : nameof(GraphEventStreamEvents.OnDisconnected))} must not be null (leave it unset for no hook).");
        }

        var origins = EffectiveAllowedOrigins;
        for (var i = 0; i < origins.Count; i++)
        {
            if (!OriginPattern.TryParse(origins[i], out _, out var problem))
            {
                failures.Add($"{SectionName}:{nameof(AllowedOrigins)}:{i} '{origins[i]}' {problem}");
            }
        }

        return failures;
    }

    private static void CheckDuration(List<string> failures, string name, TimeSpan value, TimeSpan min)
    {
        if (value < min || value > TimeSpan.FromHours(1))
        {
            failures.Add($"{SectionName}:{name} must be at least {min} and at most one hour (was {value}).");
        }
    }
}
