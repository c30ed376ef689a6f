using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Tests.Graph;

/// <summary>The event log of <see cref="SqliteToolGraphStore"/>, on real files in a temporary directory.</summary>
public sealed class SqliteEventLogTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Directory.CreateTempSubdirectory("pml-event-log-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_new_log_gets_an_epoch_kept_across_reopen_and_different_for_another_file()
    {
        var path = Db("a.db");
        EventLogState first;
        using (var store = new SqliteToolGraphStore(path))
        {
            first = Log(store).Open();
            Assert.True(GraphEventId.IsEpoch(first.Epoch));
            Assert.Equal((0L, 0L), (first.Floor, first.LastOffset));
            Log(store).Append(Records(1, 3), []);
        }

        using (var reopened = new SqliteToolGraphStore(path))
        {
            var state = Log(reopened).Open();
            Assert.Equal(new EventLogState(first.Epoch, 0, 3), state);
            Assert.Equal(state, Log(reopened).State);
        }

        using var other = new SqliteToolGraphStore(Db("b.db"));
        Assert.NotEqual(first.Epoch, Log(other).Open().Epoch);
        AssertIntact(path);
    }

    [Fact]
    public void A_read_does_not_wait_for_an_append_in_progress_and_sees_only_what_is_committed()
    {
        var path = Db("concurrent.db");
        using var store = new SqliteToolGraphStore(path);
        var log = Log(store);
        log.Open();
        log.Append(Records(1, 3), []);

        // Inside the append's transaction, before its commit, on the appending thread itself: with
        // reads under the append's gate this would never return. It returns the committed three,
        // none of the two being written.
        IReadOnlyList<EventLogRecord>? seen = null;
        store.BeforeCommit = () => seen = log.Read(0, long.MaxValue, 100);
        Assert.Equal(5, log.Append(Records(4, 2), []).LastOffset);
        store.BeforeCommit = null;

        Assert.NotNull(seen);
        AssertOffsets(1, 3, seen);
        AssertOffsets(1, 5, log.Read(0, 5, 100));
    }

    [Fact]
    public void Records_are_read_back_in_order_by_range_and_count_as_copies()
    {
        var path = Db("read.db");
        using (var store = new SqliteToolGraphStore(path))
        {
            var log = Log(store);
            log.Open();
            Assert.Equal(3, log.Append(Records(1, 3), []).LastOffset);
            Assert.Equal(10, log.Append(Records(4, 7), []).LastOffset);

            AssertOffsets(1, 10, log.Read(0, 10, 100));
            AssertOffsets(3, 6, log.Read(2, 6, 100));
            AssertOffsets(5, 7, log.Read(4, 100, 3));
            Assert.Empty(log.Read(10, 20, 100));
            Assert.Empty(log.Read(5, 5, 100));
            Assert.Empty(log.Read(0, 10, 0));

            var record = Assert.Single(log.Read(6, 7, 10));
            Assert.Equal("graph_updated", record.EventType);
            Assert.Equal(Data(7, 300), record.Data.ToArray());

            // The record owns its bytes: a second read is a second array.
            Assert.NotSame(GetArray(record), GetArray(log.Read(6, 7, 10)[0]));

            Assert.Throws<InvalidOperationException>(() => log.Append(Records(12, 1), []));
            Assert.Throws<InvalidOperationException>(() => log.Append([Record(11), Record(13)], []));
            Assert.Throws<ArgumentException>(() => log.Append([], ["not graph changes"]));
            Assert.Equal(10, log.State.LastOffset);
            Assert.True(log.Writes(new ToolGraphChanges(null, [], [])));
            Assert.False(log.Writes("text"));
        }

        AssertIntact(path);
    }

    [Fact]
    public void Retention_by_count_moves_the_floor_exactly()
    {
        var path = Db("count.db");
        using var store = new SqliteToolGraphStore(path, new SqliteEventLogOptions { MaxEvents = 5 });
        var log = Log(store);
        var epoch = log.Open().Epoch;

        Assert.Equal(new EventLogState(epoch, 0, 3), log.Append(Records(1, 3), []));
        Assert.Equal(new EventLogState(epoch, 2, 7), log.Append(Records(4, 4), []));
        AssertOffsets(3, 7, log.Read(0, 100, 100));

        // One append over the bound by itself: its own oldest records are not kept.
        Assert.Equal(new EventLogState(epoch, 15, 20), log.Append(Records(8, 13), []));
        AssertOffsets(16, 20, log.Read(0, 100, 100));
        Assert.Equal(log.State, log.Append([], [new ToolGraphChanges(null, [new ToolNode("t")], [])]));

        store.Dispose();
        using var reopened = new SqliteToolGraphStore(path, new SqliteEventLogOptions { MaxEvents = 5 });
        Assert.Equal(new EventLogState(epoch, 15, 20), Log(reopened).Open());
        Assert.Equal(new EventLogState(epoch, 16, 21), Log(reopened).Append(Records(21, 1), []));
        reopened.Dispose();
        AssertIntact(path);
    }

    [Fact]
    public void Retention_by_bytes_moves_the_floor_exactly()
    {
        var path = Db("bytes.db");
        var options = new SqliteEventLogOptions { MaxBytes = 1024 * 1024 };
        using (var store = new SqliteToolGraphStore(path, options))
        {
            var log = Log(store);
            log.Open();

            // Ten of 100,000 bytes fit in 1 MiB (1,048,576); the eleventh pushes out the first.
            Assert.Equal((0L, 10L), FloorAndLast(log.Append(Records(1, 10, 100_000), [])));
            Assert.Equal((1L, 11L), FloorAndLast(log.Append(Records(11, 1, 100_000), [])));

            // Smaller ones: 400,000 bytes of small events need four of the big ones to leave.
            Assert.Equal((5L, 411L), FloorAndLast(log.Append(Records(12, 400, 1_000), [])));
            var held = log.Read(0, long.MaxValue, 1_000);
            AssertOffsets(6, 411, held);
            Assert.True(held.Sum(r => (long)r.Data.Length) <= options.MaxBytes);
        }

        using (var reopened = new SqliteToolGraphStore(path, options))
        {
            // The byte account is loaded again at open: the next big one pushes out exactly one more.
            Assert.Equal((5L, 411L), FloorAndLast(Log(reopened).Open()));
            Assert.Equal((6L, 412L), FloorAndLast(Log(reopened).Append(Records(412, 1, 100_000), [])));
        }

        AssertIntact(path);
    }

    [Fact]
    public void Offsets_are_never_reused_after_retention_empties_the_log_and_after_reopen()
    {
        var path = Db("empty.db");
        var options = new SqliteEventLogOptions { MaxBytes = 1024 * 1024 };
        string epoch;
        using (var store = new SqliteToolGraphStore(path, options))
        {
            var log = Log(store);
            epoch = log.Open().Epoch;
            log.Append(Records(1, 2), []);

            // One event larger than the whole log: everything leaves, and the numbering goes on.
            Assert.Equal(new EventLogState(epoch, 3, 3), log.Append(Records(3, 1, 1024 * 1024 + 1), []));
            Assert.Empty(log.Read(0, long.MaxValue, 100));
        }

        using (var reopened = new SqliteToolGraphStore(path, options))
        {
            var log = Log(reopened);
            Assert.Equal(new EventLogState(epoch, 3, 3), log.Open());
            Assert.Throws<InvalidOperationException>(() => log.Append(Records(1, 1), []));
            Assert.Equal(new EventLogState(epoch, 3, 4), log.Append(Records(4, 1), []));
            AssertOffsets(4, 4, log.Read(0, long.MaxValue, 100));
        }

        AssertIntact(path);
    }

    [Fact]
    public async Task Records_and_graph_changes_commit_together_or_not_at_all()
    {
        var path = Db("atomic.db");
        using (var store = new SqliteToolGraphStore(path))
        {
            var log = Log(store);
            log.Open();
            var committed = log.Append(Records(1, 3), [Changes("w1", ["a", "b"], ("a", "b"), ("e1", T0))]);

            // A crash between the writes and the commit, then a SQLite failure at the same point.
            store.BeforeCommit = () => throw new IOException("Simulated crash before commit.");
            Assert.Throws<IOException>(() => log.Append(Records(4, 3), [Changes("w2", ["c"], ("b", "c"), ("e2", T0.AddSeconds(1)))]));
            Assert.Equal(committed, log.State);
            store.BeforeCommit = () => throw new SqliteException("Simulated disk full.", 13);
            var error = Assert.Throws<ToolGraphStoreException>(() => log.Append(Records(4, 3), [Changes("w2", ["c"], ("b", "c"), ("e2", T0.AddSeconds(1)))]));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Equal(committed, log.State);

            AssertOffsets(1, 3, log.Read(0, 100, 100));
            await AssertGraphAsync(store, ["a", "b"], ["a>b"], ["e1"]);

            // The same append, retried, goes through.
            store.BeforeCommit = null;
            Assert.Equal(6, log.Append(Records(4, 3), [Changes("w2", ["c"], ("b", "c"), ("e2", T0.AddSeconds(1)))]).LastOffset);

            // Changes alone are an append too (a registration whose events were already logged).
            Assert.Equal(6, log.Append([], [Changes(null, ["d"])]).LastOffset);

            // The failed appends did not count their learned execution either: a window of two
            // keeps exactly the last two.
            Log(store).Append(Records(7, 1), [Learned(2, TimeSpan.FromDays(1), ("e3", T0.AddSeconds(2)))]);
        }

        using (var reopened = new SqliteToolGraphStore(path))
        {
            Assert.Equal(7, Log(reopened).Open().LastOffset);
            AssertOffsets(1, 7, Log(reopened).Read(0, 100, 100));
            await AssertGraphAsync(reopened, ["a", "b", "c", "d"], ["a>b", "b>c"], ["e2", "e3"]);
        }

        AssertIntact(path);
    }

    [Fact]
    public async Task A_version_1_file_is_upgraded_in_place_keeping_its_graph()
    {
        var path = Db("v1.db");
        await RawSqlAsync(path, """
            CREATE TABLE tool (tool_id TEXT NOT NULL PRIMARY KEY, name TEXT NULL, server_id TEXT NULL, metadata TEXT NULL);
            CREATE TABLE tool_dependency (from_tool_id TEXT NOT NULL, to_tool_id TEXT NOT NULL, observed_count INTEGER NOT NULL,
                confidence_score REAL NOT NULL, PRIMARY KEY (from_tool_id, to_tool_id));
            INSERT INTO tool VALUES ('a', 'Alpha', NULL, '{"k":"v"}'), ('b', NULL, NULL, NULL);
            INSERT INTO tool_dependency VALUES ('a', 'b', 3, 0.75);
            PRAGMA user_version = 1;
            """);

        string epoch;
        using (var store = new SqliteToolGraphStore(path))
        {
            var state = Log(store).Open();
            epoch = state.Epoch;
            Assert.True(GraphEventId.IsEpoch(epoch));
            Assert.Equal((0L, 0L), FloorAndLast(state));
            Assert.Empty(Log(store).Read(0, long.MaxValue, 10));
            var contents = await store.LoadAsync(Ct);
            Assert.Equal("Alpha", contents.Tools[0].Name);
            Assert.Equal("v", contents.Tools[0].Metadata!["k"]);
            Assert.Equal(new ToolGraphEdge("a", "b", 0.75, 3), Assert.Single(contents.Edges));
            Assert.Empty(contents.LearnedExecutions);
            Log(store).Append(Records(1, 2), []);
        }

        Assert.Equal((long)SqliteToolGraphStore.SchemaVersion, await ScalarAsync(path, "PRAGMA user_version"));
        using (var reopened = new SqliteToolGraphStore(path))
        {
            // Upgraded once: the epoch made then is the file's from now on.
            Assert.Equal(new EventLogState(epoch, 0, 2), Log(reopened).Open());
        }

        AssertIntact(path);
    }

    [Fact]
    public async Task A_file_whose_log_lost_its_epoch_is_an_error_naming_it()
    {
        var path = Db("no-epoch.db");
        using (var store = new SqliteToolGraphStore(path))
        {
            Log(store).Open();
        }

        await RawSqlAsync(path, "DELETE FROM event_log_meta");
        using var broken = new SqliteToolGraphStore(path);
        var error = Assert.Throws<ToolGraphStoreException>(() => Log(broken).Open());
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("epoch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Learned_executions_persist_across_reopen_and_the_window_trims_by_count_and_age()
    {
        var path = Db("learned.db");
        using (var store = new SqliteToolGraphStore(path))
        {
            await AssertWindowAsync(store, ["e4", "e5", "e5"]);
        }

        using (var reopened = new SqliteToolGraphStore(path))
        {
            Assert.Equal(["e6"], await LearnedAsync(reopened));

            // The count is loaded at open: three more make four, one over the window of three.
            await reopened.SaveChangesAsync(Learned(3, TimeSpan.FromHours(1), ("e7", T0.AddHours(2)), ("e8", T0.AddHours(2)), ("e9", T0.AddHours(2))), Ct);
            Assert.Equal(["e7", "e8", "e9"], await LearnedAsync(reopened));

            // Through the log's append too, in its transaction.
            Log(reopened).Append(Records(1, 1), [Learned(3, TimeSpan.FromHours(1), ("e10", T0.AddHours(2)))]);
            Assert.Equal(["e8", "e9", "e10"], await LearnedAsync(reopened));
        }

        AssertIntact(path);
    }

    [Fact]
    public async Task The_in_memory_store_keeps_the_same_window() => await AssertWindowAsync(new InMemoryToolGraphStore(), ["e3", "e4", "e5"]);

    [Fact]
    public void Every_commit_is_synced_only_when_asked()
    {
        using var normal = new SqliteToolGraphStore(Db("normal.db"));
        Assert.Equal(1, normal.SynchronousMode());
        using var full = new SqliteToolGraphStore(Db("full.db"), new SqliteEventLogOptions { SyncEveryCommit = true });
        Assert.Equal(2, full.SynchronousMode());
        var log = Log(full);
        log.Open();
        Assert.Equal(2, log.Append(Records(1, 2), []).LastOffset);
    }

    [Fact]
    public void Options_outside_their_bounds_are_named_and_refused_by_the_store()
    {
        Assert.Empty(new SqliteEventLogOptions().Validate());
        Assert.Empty(new SqliteEventLogOptions { MaxEvents = 1, MaxBytes = 1024 * 1024 }.Validate());
        Assert.Empty(new SqliteEventLogOptions { MaxEvents = 100_000_000, MaxBytes = 1024L * 1024 * 1024 * 1024 }.Validate());
        Assert.Equal(100_000, new SqliteEventLogOptions().MaxEvents);
        Assert.Equal(64L * 1024 * 1024, new SqliteEventLogOptions().MaxBytes);

        var failures = new SqliteEventLogOptions { MaxEvents = 0, MaxBytes = 1024 * 1024 - 1 }.Validate();
        Assert.Equal(2, failures.Count);
        Assert.StartsWith("GraphEvents:EventLog:MaxEvents must be between 1 and 100,000,000", failures[0], StringComparison.Ordinal);
        Assert.StartsWith("GraphEvents:EventLog:MaxBytes must be between", failures[1], StringComparison.Ordinal);
        Assert.Contains("GraphEvents:EventLog:MaxEvents", Assert.Single(new SqliteEventLogOptions { MaxEvents = 100_000_001 }.Validate()), StringComparison.Ordinal);
        Assert.Contains("GraphEvents:EventLog:MaxBytes", Assert.Single(new SqliteEventLogOptions { MaxBytes = (1024L * 1024 * 1024 * 1024) + 1 }.Validate()), StringComparison.Ordinal);

        var error = Assert.Throws<ArgumentException>(() => new SqliteToolGraphStore(Db("x.db"), new SqliteEventLogOptions { MaxEvents = -1, MaxBytes = 0 }));
        Assert.Contains("GraphEvents:EventLog:MaxEvents", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:EventLog:MaxBytes", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Db("x.db")));
    }

    [Fact]
    public void The_container_has_one_store_for_the_graph_and_the_log_with_options_from_configuration_then_code()
    {
        var path = Db("di.db");
        var services = new ServiceCollection();
        services.AddGraphEvents().AddSqliteToolGraphStore(path, options => options.MaxBytes = 2 * 1024 * 1024);

        // Configuration registered after the call is bound all the same.
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["GraphEvents:EventLog:MaxEvents"] = "4", ["GraphEvents:EventLog:MaxBytes"] = "1" })
            .Build());

        SqliteToolGraphStore store;
        using (var provider = services.BuildServiceProvider())
        {
            store = provider.GetRequiredService<SqliteToolGraphStore>();
            Assert.Same(store, provider.GetRequiredService<IToolGraphStore>());
            Assert.Same(store, provider.GetRequiredService<IGraphEventLog>());
            Assert.Equal(path, store.DatabasePath);
            var options = provider.GetRequiredService<IOptions<SqliteEventLogOptions>>().Value;
            Assert.Equal((4, 2L * 1024 * 1024), (options.MaxEvents, options.MaxBytes));

            var log = provider.GetRequiredService<IGraphEventLog>();
            log.Open();
            Assert.Equal((6L, 10L), FloorAndLast(log.Append(Records(1, 10), [])));
        }

        // The container disposed it: the file's lock is free for the next store.
        using (var next = new SqliteToolGraphStore(path))
        {
            Assert.Equal(10, Log(next).Open().LastOffset);
        }

        var bad = new ServiceCollection();
        bad.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["GraphEvents:EventLog:MaxEvents"] = "0" })
            .Build());
        bad.AddGraphEvents().AddToolGraphEngine().AddSqliteToolGraphStore(Db("bad.db"));
        using var badProvider = bad.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IToolGraphStore>());
        Assert.Contains("GraphEvents:EventLog:MaxEvents must be between", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Db("bad.db")));
    }

    [Fact]
    public async Task Reads_while_the_log_appends_see_only_whole_records_in_order()
    {
        var path = Db("concurrent.db");
        using (var store = new SqliteToolGraphStore(path, new SqliteEventLogOptions { MaxEvents = 300 }))
        {
            var log = Log(store);
            log.Open();
            const int Batches = 200;
            var appending = Task.Run(
                () =>
                {
                    for (var i = 0; i < Batches; i++)
                    {
                        log.Append(Records((i * 10) + 1, 10), []);
                    }
                },
                Ct);

            var reads = 0;
            var seen = 0L;
            while (!appending.IsCompleted || reads == 0)
            {
                var state = log.State;
                var records = log.Read(0, state.LastOffset, 1_000);
                reads++;
                for (var i = 0; i < records.Count; i++)
                {
                    var record = records[i];
                    Assert.True(record.Offset <= state.LastOffset);
                    Assert.Equal(records[0].Offset + i, record.Offset);
                    Assert.Equal(Data(record.Offset, 300), record.Data.ToArray());
                }

                if (records.Count > 0)
                {
                    // A read never goes back: the newest seen only grows.
                    Assert.True(records[^1].Offset >= seen);
                    seen = records[^1].Offset;
                }
            }

            await appending;
            Assert.Equal(new EventLogState(log.State.Epoch, (Batches * 10) - 300, Batches * 10), log.State);
            AssertOffsets((Batches * 10) - 299, Batches * 10, log.Read(0, long.MaxValue, 1_000));
            TestContext.Current.TestOutputHelper?.WriteLine($"{reads} reads during {Batches} appends");
        }

        AssertIntact(path);
    }

    [Fact]
    public void Measure_the_cost_of_an_append()
    {
        // Not asserted: printed for the record (docs/benchmarks.md). Each figure is per append, the
        // best and the mean of five rounds of 100 appends, after a warm-up round (JIT, first pages).
        var path = Db("measure.db");
        using (var store = new SqliteToolGraphStore(path, new SqliteEventLogOptions { MaxEvents = 1_000 }))
        {
            var log = Log(store);
            log.Open();
            var output = TestContext.Current.TestOutputHelper;
            var round = 0;
            (double Best, double Mean) Measure(int perAppend, bool attach)
            {
                var best = double.MaxValue;
                var total = 0.0;
                for (var r = 0; r < 6; r++, round++)
                {
                    var batches = Enumerable.Range(0, 100).Select(i => Records(log.State.LastOffset + 1 + (i * perAppend), perAppend)).ToArray();
                    object[][] attachments = [.. Enumerable.Range(0, 100).Select(i => attach ? new object[] { Changes($"w{round}-{i}", [], ("a", $"t{i % 50}"), ($"e{round}-{i}", T0.AddSeconds((round * 100) + i))) } : [])];
                    var watch = Stopwatch.StartNew();
                    for (var i = 0; i < batches.Length; i++)
                    {
                        log.Append(batches[i], attachments[i]);
                    }

                    var each = watch.Elapsed.TotalMicroseconds / batches.Length;
                    if (r > 0)
                    {
                        best = Math.Min(best, each);
                        total += each;
                    }
                }

                return (best, total / 5);
            }

            foreach (var (perAppend, attach) in new[] { (10, false), (10, true), (100, false) })
            {
                var (best, mean) = Measure(perAppend, attach);
                output?.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"Append of {perAppend} records of 300 bytes{(attach ? " + one execution's changes (1 edge, 1 learned execution)" : string.Empty)}, retention at 1,000 events: best {best:F0} µs, mean {mean:F0} µs ({mean / perAppend:F1} µs per record)"));
            }

            var read = Stopwatch.StartNew();
            var last = log.State.LastOffset;
            for (var i = 0; i < 100; i++)
            {
                log.Read(last - 100, last, 100);
            }

            output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Read of 100 records: {read.Elapsed.TotalMicroseconds / 100:F0} µs each"));
        }

        AssertIntact(path);
    }

    /// <param name="store">The store.</param>
    /// <param name="afterRepeat">
    /// The window after an id it holds is written again: the in-memory store keeps the id at its first
    /// time; the SQLite store, which has no index on the id, stores it again (a row that counts in
    /// the window), as the engine's own window holds an id it learned again.
    /// </param>
    private static async Task AssertWindowAsync(IToolGraphStore store, string[] afterRepeat)
    {
        // Five learned a millisecond apart, a window of three: the two oldest leave.
        await store.SaveChangesAsync(Learned(3, TimeSpan.FromHours(1), ("e1", T0), ("e2", T0.AddMilliseconds(1)), ("e3", T0.AddMilliseconds(2)), ("e4", T0.AddMilliseconds(3)), ("e5", T0.AddMilliseconds(4))), Ct);
        Assert.Equal(["e3", "e4", "e5"], await LearnedAsync(store));

        // An id written again (the engine does not: it is a duplicate); a registration (nothing learned) trims nothing.
        await store.SaveChangesAsync(Learned(3, TimeSpan.FromHours(1), ("e5", T0.AddMinutes(5))), Ct);
        await store.SaveChangesAsync(new ToolGraphChanges(null, [new ToolNode("t")], []), Ct);
        var contents = await store.LoadAsync(Ct);
        Assert.Equal(afterRepeat, contents.LearnedExecutions.Select(e => e.ExecutionId));
        Assert.Equal(T0.AddMilliseconds(4), contents.LearnedExecutions.First(e => e.ExecutionId == "e5").LearnedAt);

        // Two hours later, with a window of one hour: all three are too old.
        await store.SaveChangesAsync(Learned(3, TimeSpan.FromHours(1), ("e6", T0.AddHours(2))), Ct);
        Assert.Equal(["e6"], await LearnedAsync(store));
    }

    private static async Task AssertGraphAsync(SqliteToolGraphStore store, string[] tools, string[] edges, string[] learned)
    {
        var contents = await store.LoadAsync(Ct);
        Assert.Equal(tools, contents.Tools.Select(t => t.Id));
        Assert.Equal(edges, contents.Edges.Select(e => $"{e.FromToolId}>{e.ToToolId}"));
        Assert.Equal(learned, contents.LearnedExecutions.Select(e => e.ExecutionId));
    }

    private static async Task<string[]> LearnedAsync(IToolGraphStore store) =>
        [.. (await store.LoadAsync(Ct)).LearnedExecutions.Select(e => e.ExecutionId)];

    private static ToolGraphChanges Learned(int count, TimeSpan age, params (string Id, DateTimeOffset At)[] executions) =>
        new(executions[0].Id, [], [])
        {
            LearnedExecutions = [.. executions.Select(e => new LearnedExecution(e.Id, e.At))],
            DuplicateWindowCount = count,
            DuplicateWindowAge = age,
        };

    private static ToolGraphChanges Changes(string? workflowId, string[] tools, (string From, string To)? edge = null, (string Id, DateTimeOffset At)? learned = null) =>
        new(workflowId, [.. tools.Select(t => new ToolNode(t))], edge is { } e ? [new ToolGraphEdge(e.From, e.To, 0.5, 1)] : [])
        {
            LearnedExecutions = learned is { } l ? [new LearnedExecution(l.Id, l.At)] : [],
            DuplicateWindowCount = 100_000,
            DuplicateWindowAge = TimeSpan.FromHours(24),
        };

    [SuppressMessage("Performance", "CA1859", Justification = "The log is the store's explicit interface implementation: reached through the interface only.")]
    private static IGraphEventLog Log(SqliteToolGraphStore store) => store;

    private static EventLogRecord[] Records(long first, int count, int size = 300) =>
        [.. Enumerable.Range(0, count).Select(i => Record(first + i, size))];

    private static EventLogRecord Record(long offset, int size = 300) => new(offset, "graph_updated", Data(offset, size));

    /// <summary>A data line of exactly <paramref name="size"/> bytes that names its offset, so a torn or misplaced record shows.</summary>
    private static byte[] Data(long offset, int size)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"offset\":{offset},\"pad\":\"");
        return Encoding.UTF8.GetBytes(head + new string((char)('a' + (offset % 26)), size - head.Length - 2) + "\"}");
    }

    private static byte[] GetArray(EventLogRecord record) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(record.Data, out var segment) ? segment.Array! : throw new InvalidOperationException("not an array");

    private static void AssertOffsets(long first, long last, IReadOnlyList<EventLogRecord> records) =>
        Assert.Equal(Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + i), records.Select(r => r.Offset));

    private static (long Floor, long Last) FloorAndLast(EventLogState state) => (state.Floor, state.LastOffset);

    private static void AssertIntact(string path) =>
        Assert.Equal("ok", ScalarAsync(path, "PRAGMA integrity_check").GetAwaiter().GetResult()?.ToString());

    private string Db(string name) => Path.Combine(_directory, name);

    private static async Task RawSqlAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<object?> ScalarAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }
}
