using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Settings of the Redis Streams backplane. Bound from the <c>GraphEvents:Redis</c> configuration
/// section by <c>AddRedisBackplane(configuration)</c> and validated when the host starts.
/// </summary>
public sealed class RedisBackplaneOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "GraphEvents:Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string, for example <c>redis.internal:6379,password=…</c>.
    /// Required unless <see cref="ConfigurationOptions"/> is set, which wins, or the backplane runs on
    /// the application's multiplexer (<c>AddRedisBackplane(multiplexer)</c>), which ignores both.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>The connection settings as an object, for what a string cannot say (certificates, callbacks). Wins over <see cref="ConnectionString"/>.</summary>
    public ConfigurationOptions? ConfigurationOptions { get; set; }

    /// <summary>
    /// The Redis Stream every instance appends to and reads. Instances that share it share their
    /// events. The hash <c>&lt;StreamKey&gt;:config</c>, one expiring key
    /// <c>&lt;StreamKey&gt;:producer:&lt;id&gt;</c> per running instance and the channel
    /// <c>&lt;StreamKey&gt;:notify</c> go with it; in Redis Cluster, put a hash tag in it
    /// (<c>{pml:graph-events}</c>) so they share a slot. Default <c>pml:graph-events</c>.
    /// </summary>
    public string StreamKey { get; set; } = "pml:graph-events";

    /// <summary>
    /// Entries the stream keeps (trimmed with <c>XADD MAXLEN ~</c>, so a little more may stay): how far
    /// back a client can resume on an instance whose own replay ring is shorter. One length per
    /// stream: the first instance to append stores its value in <c>&lt;StreamKey&gt;:config</c>
    /// (field <c>maxlen</c>), and every instance trims to the stored value; an instance configured
    /// otherwise logs a warning at start and uses the stored one. 1 to 10,000,000;
    /// <see langword="null"/> (the default): <c>GraphEvents:ReplayCapacity</c>.
    /// </summary>
    public int? MaxLength { get; set; }

    /// <summary>
    /// How often an instance reads the stream when no notification arrived. Every append also
    /// notifies every instance over pub/sub, which is what keeps the delivery latency at one
    /// round trip; this poll only bounds the delay when a notification is lost (a pub/sub
    /// connection that dropped). 1 ms to 1 minute; default 250 ms.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Events published on this instance that may wait for Redis, for example during an outage.
    /// When it is full the oldest waiting event is dropped (and counted), so publishing never blocks
    /// on Redis. 1 to 10,000,000; default 10,000.
    /// </summary>
    public int OutageBufferCapacity { get; set; } = 10_000;

    /// <summary>
    /// Stream entries one resume may read, when a client resumes from an id older than this
    /// instance's replay ring (it came from another instance, or the ring is shorter than the
    /// stream). Past it, the client gets <c>events_lost</c> (<c>replay_window_exceeded</c>) and then
    /// the newest this many entries of what it missed. Bounds the memory and Redis work one
    /// reconnecting client can cost. 1 to 1,000,000; default 10,000.
    /// </summary>
    public int MaxResumeEntries { get; set; } = 10_000;

    /// <summary>
    /// How long stopping the host (disposing the backplane) waits for Redis to take the events
    /// still waiting in the outage buffer. Events not appended by then are discarded: they reach no
    /// client, this instance's included; they are counted and logged with their number. Zero (do
    /// not wait) to 1 minute; default 2 seconds. Stopping takes at most about this long.
    /// </summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long host start-up waits for Redis to tell where the stream is, before it goes on
    /// without (the backplane keeps connecting). Zero to 5 minutes; default 5 seconds.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// With a learner (<c>AddRedisLearner()</c>): how long the learner's lease holds without a
    /// renewal, and so how long a learner that died (SIGKILL, a lost machine) delays the next one;
    /// the holder renews it every third of it, and the others try to take it as often. Default 3 s:
    /// a dead learner is replaced within about 4 s. Shorter is quicker to fail over but makes a
    /// pause of the learner (a long GC, a slow Redis) cost it the lease; a paused ex-learner can
    /// never write after losing it (every write carries the lease's fencing token).
    /// </summary>
    public TimeSpan LearnerLease { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// With a learner: the learner writes a snapshot of the graph to Redis after this many events,
    /// so that an instance that starts late (after the stream was trimmed) starts from it plus the
    /// events after it. Default: a quarter of the stream's length (<see cref="MaxLength"/>); at most half of it, so
    /// that the events after a snapshot are always still in the stream.
    /// </summary>
    public int? SnapshotEveryEvents { get; set; }

    /// <summary>With a learner: the most executions the learner takes from the executions log into one batch (one commit, one <c>metrics_updated</c>). Default 100.</summary>
    public int LearnBatchSize { get; set; } = 100;

    /// <summary>
    /// With a learner: the most executions that may wait in the executions log for the learner.
    /// Past it, ingest answers that it is unavailable (the server: 503 with Retry-After) instead of
    /// letting Redis's memory grow while no learner keeps up (or none runs). Default 100,000.
    /// </summary>
    public int MaxPendingExecutions { get; set; } = 100_000;

    /// <summary>The snapshot interval in effect for a stream of <paramref name="maxLength"/> entries.</summary>
    internal int SnapshotInterval(int maxLength) => SnapshotEveryEvents ?? Math.Max(1, maxLength / 4);

    /// <summary>
    /// How often an instance writes its subscriber count to Redis and reads the other instances'
    /// (<c>&lt;StreamKey&gt;:presence</c>), so that <c>connected_clients</c> in the <c>connected</c> and
    /// <c>heartbeat</c> events counts the whole cluster. A count expires after 3 intervals: an
    /// instance that died drops out of the others' counts by then (one that stops cleanly, at their
    /// next tick), and one that cannot reach Redis that long counts only its own subscribers. The
    /// subscriber limit (<c>GraphEvents:MaxSubscribers</c>) stays per instance. 10 ms to 1 minute;
    /// default 5 seconds.
    /// </summary>
    public TimeSpan PresenceInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Every problem with these options, each naming the option; empty when they are valid.</summary>
    /// <param name="needsConnection">False when the backplane runs on the application's multiplexer, so no connection settings are needed.</param>
    internal List<string> Validate(bool needsConnection = true)
    {
        List<string> failures = [];
        if (needsConnection && ConfigurationOptions is null)
        {
            if (string.IsNullOrWhiteSpace(ConnectionString))
            {
                failures.Add($"{SectionName}:{nameof(ConnectionString)} is required (or set {nameof(ConfigurationOptions)} in code).");
            }
            else
            {
                try
                {
                    ConfigurationOptions.Parse(ConnectionString);
                }
                catch (ArgumentException ex)
                {
                    failures.Add($"{SectionName}:{nameof(ConnectionString)} is not a valid Redis configuration string: {ex.Message}");
                }
            }
        }

        if (string.IsNullOrWhiteSpace(StreamKey))
        {
            failures.Add($"{SectionName}:{nameof(StreamKey)} must not be empty.");
        }

        if (MaxLength is < 1 or > 10_000_000)
        {
            failures.Add($"{SectionName}:{nameof(MaxLength)} must be between 1 and 10,000,000 (was {MaxLength:N0}).");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(1) || PollInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{SectionName}:{nameof(PollInterval)} must be between 1 ms and 1 minute (was {PollInterval}).");
        }

        if (OutageBufferCapacity is < 1 or > 10_000_000)
        {
            failures.Add($"{SectionName}:{nameof(OutageBufferCapacity)} must be between 1 and 10,000,000 (was {OutageBufferCapacity:N0}).");
        }

        if (MaxResumeEntries is < 1 or > 1_000_000)
        {
            failures.Add($"{SectionName}:{nameof(MaxResumeEntries)} must be between 1 and 1,000,000 (was {MaxResumeEntries:N0}).");
        }

        if (StopTimeout < TimeSpan.Zero || StopTimeout > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{SectionName}:{nameof(StopTimeout)} must be between zero and 1 minute (was {StopTimeout}).");
        }

        if (StartTimeout < TimeSpan.Zero || StartTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{SectionName}:{nameof(StartTimeout)} must be between zero and 5 minutes (was {StartTimeout}).");
        }

        if (LearnerLease < TimeSpan.FromMilliseconds(300) || LearnerLease > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{SectionName}:{nameof(LearnerLease)} must be between 300 ms and 5 minutes (was {LearnerLease}).");
        }

        if (SnapshotEveryEvents is < 1 or > 5_000_000)
        {
            failures.Add($"{SectionName}:{nameof(SnapshotEveryEvents)} must be between 1 and 5,000,000 (was {SnapshotEveryEvents:N0}).");
        }
        else if (SnapshotEveryEvents is { } every && MaxLength is { } length && every > length / 2)
        {
            failures.Add($"{SectionName}:{nameof(SnapshotEveryEvents)} ({every:N0}) must be at most half of {SectionName}:{nameof(MaxLength)} ({length:N0}), so that the events after a snapshot are still in the stream.");
        }

        if (LearnBatchSize is < 1 or > 10_000)
        {
            failures.Add($"{SectionName}:{nameof(LearnBatchSize)} must be between 1 and 10,000 (was {LearnBatchSize:N0}).");
        }

        if (MaxPendingExecutions is < 1 or > 10_000_000)
        {
            failures.Add($"{SectionName}:{nameof(MaxPendingExecutions)} must be between 1 and 10,000,000 (was {MaxPendingExecutions:N0}).");
        }

        if (PresenceInterval < TimeSpan.FromMilliseconds(10) || PresenceInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{SectionName}:{nameof(PresenceInterval)} must be between 10 ms and 1 minute (was {PresenceInterval}).");
        }

        return failures;
    }
}
