namespace Pml.GraphEvents;

/// <summary>
/// Settings of the broadcaster. Bound from the <c>GraphEvents</c> configuration section by
/// <c>services.AddGraphEvents(configuration)</c>
/// and validated when the host starts.
/// </summary>
public sealed class GraphEventsOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "GraphEvents";

    private const long MaxBufferBytes = 1L << 40;

    /// <summary>Most subscribers at once; a further subscribe is refused. 1 to 100,000; default 100.</summary>
    public int MaxSubscribers { get; set; } = 100;

    /// <summary>
    /// Events the publisher may queue ahead of the pump. When it is full, <c>TryPublish</c>
    /// returns <see langword="false"/> and <c>PublishAsync</c> waits: it never waits for a
    /// subscriber, only for the pump. 1 to 10,000,000; default 10,000.
    /// </summary>
    public int IngressCapacity { get; set; } = 10_000;

    /// <summary>Frames buffered for each subscriber before <see cref="SlowSubscriberPolicy"/> applies. 1 to 1,000,000; default 1,024.</summary>
    public int SubscriberBufferCapacity { get; set; } = 1_024;

    /// <summary>
    /// Bytes of frames buffered for each subscriber: <see cref="SlowSubscriberPolicy"/> applies when
    /// a frame would take the buffer past this, as it does at <see cref="SubscriberBufferCapacity"/>
    /// frames (drop-oldest drops as many of the oldest frames as it takes, and reports the count).
    /// A frame always fits an empty buffer. Frames are shared, so this bounds what one stalled
    /// subscriber can keep alive, not a copy. <see cref="MaxEventBytes"/> to 1 TiB; default
    /// 4,194,304 (4 MiB).
    /// </summary>
    public long SubscriberBufferCapacityBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// Most recent events kept in memory for Last-Event-ID replay: all of the in-memory log, or the
    /// cached tail of a durable one (which serves older resumes from its file). 1 to 1,000,000; default 1,024.
    /// </summary>
    public int ReplayCapacity { get; set; } = 1_024;

    /// <summary>
    /// Bytes of the most recent frames kept for Last-Event-ID replay: the oldest frames leave the
    /// window when either this or <see cref="ReplayCapacity"/> is reached, and a resume from before
    /// the window gets <see cref="EventsLostEvent"/> (<see cref="EventsLostReasons.ReplayWindowExceeded"/>,
    /// with the exact count). <see cref="MaxEventBytes"/> to 1 TiB; default 16,777,216 (16 MiB).
    /// </summary>
    public long ReplayCapacityBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>How often every subscriber gets a <c>heartbeat</c>. More than zero and at most one day; default 30 seconds.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest encoded SSE frame of one event, in bytes, counting its <c>id:</c> line at its
    /// longest (JSON escaping can make a frame up to six times its text). A larger event is
    /// refused at publish with an <see cref="ArgumentException"/> naming its type and size, so that
    /// no single event can pin unbounded memory in every buffer; the tool graph engine checks the
    /// events an execution would produce before it learns anything. Measuring costs nothing for an
    /// event whose text is under a sixth of this: only a larger one is encoded at publish (once;
    /// the broadcast reuses those bytes). 1,024 to 67,108,864; default 1,048,576 (1 MiB).
    /// </summary>
    public int MaxEventBytes { get; set; } = 1024 * 1024;

    /// <summary>What happens to a subscriber whose buffer is full. Default <see cref="SlowSubscriberPolicy.Disconnect"/>.</summary>
    public SlowSubscriberPolicy SlowSubscriberPolicy { get; set; } = SlowSubscriberPolicy.Disconnect;

    /// <summary>
    /// The host's own event types, which the broadcaster publishes, filters (<c>?types=</c>), replays
    /// and hands to its backplane like the library's: add each with its name and source-generated
    /// JSON contract (<c>options.CustomEventTypes.Add("capability_learned", MyEventsJson.Default.CapabilityLearned)</c>,
    /// or <c>AddEventType</c> on <c>AddGraphEvents()</c>). The broadcaster created with these options
    /// freezes it. Not bound from configuration: a type is code.
    /// </summary>
    public GraphEventTypeRegistry CustomEventTypes { get; } = new();

    /// <summary>Every problem with these options, each naming the option; empty when they are valid.</summary>
    internal List<string> Validate()
    {
        List<string> failures = [];
        CheckRange(failures, nameof(MaxSubscribers), MaxSubscribers, 1, 100_000);
        CheckRange(failures, nameof(IngressCapacity), IngressCapacity, 1, 10_000_000);
        CheckRange(failures, nameof(SubscriberBufferCapacity), SubscriberBufferCapacity, 1, 1_000_000);
        CheckRange(failures, nameof(ReplayCapacity), ReplayCapacity, 1, 1_000_000);
        CheckRange(failures, nameof(MaxEventBytes), MaxEventBytes, 1024, 64 * 1024 * 1024);
        CheckBytes(failures, nameof(SubscriberBufferCapacityBytes), SubscriberBufferCapacityBytes, MaxEventBytes);
        CheckBytes(failures, nameof(ReplayCapacityBytes), ReplayCapacityBytes, MaxEventBytes);
        if (HeartbeatInterval <= TimeSpan.Zero || HeartbeatInterval > TimeSpan.FromDays(1))
        {
            failures.Add($"{SectionName}:{nameof(HeartbeatInterval)} must be more than zero and at most one day (was {HeartbeatInterval}).");
        }

        if (!Enum.IsDefined(SlowSubscriberPolicy))
        {
            failures.Add($"{SectionName}:{nameof(SlowSubscriberPolicy)} must be {nameof(SlowSubscriberPolicy.Disconnect)} or {nameof(SlowSubscriberPolicy.DropOldest)} (was {SlowSubscriberPolicy}).");
        }

        return failures;
    }

    private static void CheckBytes(List<string> failures, string name, long value, int maxEventBytes)
    {
        // At least one largest event, so that the newest frame always fits.
        if (value < maxEventBytes || value > MaxBufferBytes)
        {
            failures.Add($"{SectionName}:{name} must be at least {SectionName}:{nameof(MaxEventBytes)} ({maxEventBytes:N0}) and at most {MaxBufferBytes:N0} (was {value:N0}).");
        }
    }

    private static void CheckRange(List<string> failures, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{SectionName}:{name} must be between {min:N0} and {max:N0} (was {value:N0}).");
        }
    }
}
