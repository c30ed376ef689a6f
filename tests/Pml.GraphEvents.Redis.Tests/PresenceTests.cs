using Microsoft.Extensions.Logging;
using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// Presence on a real redis-server: instances sharing a stream key each publish their subscriber
/// count and read the others' sum; an instance that stops drops out at once, one that dies when
/// its count expires, and an instance cut off from Redis counts alone after 3 intervals.
/// </summary>
public sealed class PresenceTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private static string NewStreamKey() => $"test:{Guid.NewGuid():N}";

    [Fact]
    public async Task Each_instance_counts_the_others_and_follows_their_changes()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await Instance.StartAsync(redis, key, "a", local: 2);
        await using var b = await Instance.StartAsync(redis, key, "b", local: 3);
        await using var c = await Instance.StartAsync(redis, key, "c", local: 5);

        await Eventually.HoldsAsync(() => a.Others == 8 && b.Others == 7 && c.Others == 5, () => $"others: a {a.Others}, b {b.Others}, c {c.Others}");

        b.Local = 10;
        await Eventually.HoldsAsync(() => a.Others == 15 && c.Others == 12 && b.Others == 7, () => $"others after b went to 10: a {a.Others}, b {b.Others}, c {c.Others}");

        // Each instance's count lives 3 intervals unless renewed; the set lists the instances.
        var db = a.Connection.GetDatabase();
        var ttl = await db.KeyTimeToLiveAsync(a.Presence.CountKey);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), 3 * Interval);
        Assert.Equal(["a", "b", "c"], (await db.SetMembersAsync(key + ":presence")).Select(m => (string)m!).Order());
    }

    [Fact]
    public async Task A_stopped_instance_deletes_its_count_and_leaves_the_others_sums_at_their_next_tick()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        await using var a = await Instance.StartAsync(redis, key, "a", local: 1);

        // b ticks every 20 s: its count would expire only after a minute, so a sum that falls
        // within the wait below fell because b deleted its count, not because it expired.
        await using var b = await Instance.StartAsync(redis, key, "b", local: 4, interval: TimeSpan.FromSeconds(20));
        await Eventually.HoldsAsync(() => a.Others == 4 && b.Others == 1, () => $"others: a {a.Others}, b {b.Others}");

        await b.DisposeAsync();
        var db = a.Connection.GetDatabase();
        Assert.False(await db.KeyExistsAsync(b.Presence.CountKey));
        Assert.False(await db.SetContainsAsync(key + ":presence", "b"));
        await Eventually.HoldsAsync(() => a.Others == 0, () => $"a's others after b stopped: {a.Others}", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_dead_instance_drops_out_when_its_count_expires()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        var frozen = new PausableTimeProvider();
        await using var a = await Instance.StartAsync(redis, key, "a", local: 1);
        await using var b = await Instance.StartAsync(redis, key, "b", local: 6, timeProvider: frozen);
        await Eventually.HoldsAsync(() => a.Others == 6 && b.Others == 1, () => $"others: a {a.Others}, b {b.Others}");

        // b's clock stops: it never ticks again and never deletes its count, as a killed process.
        frozen.Pause();
        var db = a.Connection.GetDatabase();
        await Eventually.TrueAsync(async () => !await db.KeyExistsAsync(b.Presence.CountKey), "b's count expired");
        await Eventually.HoldsAsync(() => a.Others == 0, () => $"a's others after b died: {a.Others}");

        // The live instance's tick also removes the dead one from the set.
        await Eventually.TrueAsync(async () => !await db.SetContainsAsync(key + ":presence", "b"), "b removed from the set");
    }

    [Fact]
    public async Task Without_Redis_each_instance_counts_alone_after_three_intervals_logged_once_and_counts_the_others_again_when_it_is_back()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = NewStreamKey();
        using var logs = new ListLoggerProvider();
        await using var a = await Instance.StartAsync(redis, key, "a", local: 2, logger: logs.CreateLogger("Pml.GraphEvents.Redis.RedisBackplane"));
        await using var b = await Instance.StartAsync(redis, key, "b", local: 3);
        await Eventually.HoldsAsync(() => a.Others == 3 && b.Others == 2, () => $"others: a {a.Others}, b {b.Others}");

        await redis.StopAsync();
        await Eventually.HoldsAsync(() => a.Others == 0 && b.Others == 0, () => $"others without Redis: a {a.Others}, b {b.Others}");

        // Several more ticks of the outage (each sets 0 again): still one warning.
        var zeroed = a.Zeroed;
        await Eventually.HoldsAsync(() => a.Zeroed >= zeroed + 5, "five more ticks without Redis");
        Assert.Single(logs.Entries, e => e.Id.Id == 20 && e.Level == LogLevel.Warning);
        Assert.DoesNotContain(logs.Entries, e => e.Id.Id == 21);

        // Redis comes back (empty: no persistence); the counts are written again at the next ticks.
        await redis.StartAsync();
        await Eventually.HoldsAsync(() => a.Others == 3 && b.Others == 2, () => $"others after Redis came back: a {a.Others}, b {b.Others}");
        await Eventually.HoldsAsync(() => logs.Entries.Any(e => e.Id.Id == 21), "the recovery logged");
        Assert.Single(logs.Entries, e => e.Id.Id == 20);
    }

    [Fact]
    public void The_interval_is_validated_naming_its_key()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), new RedisBackplaneOptions().PresenceInterval);
        foreach (var bad in new[] { TimeSpan.Zero, TimeSpan.FromMilliseconds(9), TimeSpan.FromMinutes(2) })
        {
            var failures = new RedisBackplaneOptions { ConnectionString = "localhost", PresenceInterval = bad }.Validate();
            Assert.StartsWith("GraphEvents:Redis:PresenceInterval ", Assert.Single(failures), StringComparison.Ordinal);
        }

        Assert.Empty(new RedisBackplaneOptions { ConnectionString = "localhost", PresenceInterval = TimeSpan.FromMilliseconds(10) }.Validate());
    }

    /// <summary>One instance's presence: its own connection, a local count the test sets, and the others' sum it receives.</summary>
    private sealed class Instance : IAsyncDisposable
    {
        private int _local;
        private int _others = -1;
        private int _zeroed;

        private Instance(ConnectionMultiplexer connection, int local)
        {
            Connection = connection;
            _local = local;
        }

        public ConnectionMultiplexer Connection { get; }

        public RedisPresence Presence { get; private set; } = null!;

        public int Local
        {
            get => Volatile.Read(ref _local);
            set => Volatile.Write(ref _local, value);
        }

        /// <summary>The last sum received; -1 before the first.</summary>
        public int Others => Volatile.Read(ref _others);

        /// <summary>How many times the sum was set to 0.</summary>
        public int Zeroed => Volatile.Read(ref _zeroed);

        public static async Task<Instance> StartAsync(RedisServer redis, string streamKey, string id, int local, TimeSpan? interval = null, TimeProvider? timeProvider = null, ILogger? logger = null)
        {
            var configuration = ConfigurationOptions.Parse(redis.ConnectionString);

            // As the backplane: never fail for an absent Redis, and come back soon after an outage.
            configuration.AbortOnConnectFail = false;
            configuration.ReconnectRetryPolicy = new LinearRetry(100);
            var instance = new Instance(await ConnectionMultiplexer.ConnectAsync(configuration), local);
            instance.Presence = new RedisPresence(
                Task.FromResult<IConnectionMultiplexer>(instance.Connection),
                streamKey,
                id,
                interval ?? Interval,
                timeProvider ?? TimeProvider.System,
                logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
                () => instance.Local,
                instance.SetOthers);
            instance.Presence.Start();
            return instance;
        }

        public async ValueTask DisposeAsync()
        {
            // Presence first: it deletes its count on the connection it is given.
            await Presence.DisposeAsync();
            await Connection.DisposeAsync();
        }

        private void SetOthers(int others)
        {
            if (others == 0)
            {
                Interlocked.Increment(ref _zeroed);
            }

            Volatile.Write(ref _others, others);
        }
    }

    /// <summary>The system clock until paused; after that, timers never fire: the loop stops as in a process that froze or was killed.</summary>
    private sealed class PausableTimeProvider : TimeProvider
    {
        private volatile bool _paused;

        public void Pause() => _paused = true;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            _paused
                ? System.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan)
                : System.CreateTimer(callback, state, dueTime, period);
    }
}
