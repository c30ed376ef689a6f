namespace Pml.GraphEvents.AspNetCore;

/// <summary>
/// Settings of the HTTP stream endpoint. Bound from the <c>GraphEvents:Stream</c> configuration
/// section by <c>AddGraphEventStream()</c> and validated when the host starts.
/// </summary>
/// <remarks>
/// The writer's settings (<see cref="GraphEventStreamWriterOptions.RetryInterval"/>,
/// <see cref="GraphEventStreamWriterOptions.WriteTimeout"/>, <see cref="GraphEventStreamWriterOptions.MaxBatchBytes"/>,
/// <see cref="GraphEventStreamWriterOptions.MaxStreamDuration"/>) are inherited, with their defaults and
/// ranges, and bound from the same section (<c>GraphEvents:Stream:WriteTimeout</c>); the endpoint writes
/// each stream with these options as they are. <see cref="GraphEventStreamWriterOptions.TimeProvider"/>
/// is the container's <see cref="System.TimeProvider"/> unless code sets it.
/// </remarks>
public sealed class GraphEventStreamOptions : GraphEventStreamWriterOptions
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

    /// <summary>The <c>Retry-After</c> of a 503 answer at the subscriber limit (and of a 429 at <see cref="MaxStreamsPerAddress"/>), in whole seconds. 1 second to 1 hour; default 5 seconds.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

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

    /// <summary>Every problem with these options, each naming the option by its configuration key; empty when they are valid.</summary>
    internal List<string> Validate()
    {
        // The writer's settings by the writer's own check, named by their keys in this section.
        var failures = Validate(optionPrefix: SectionName + ":");
        if (RetryAfter < TimeSpan.FromSeconds(1) || RetryAfter > TimeSpan.FromHours(1))
        {
            failures.Add($"{SectionName}:{nameof(RetryAfter)} must be at least 1 second and at most one hour (was {RetryAfter}).");
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
}
