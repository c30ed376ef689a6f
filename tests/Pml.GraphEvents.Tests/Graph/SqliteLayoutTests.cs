using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Tests.Graph;

/// <summary>
/// The layout of schema version 3 of <see cref="SqliteToolGraphStore"/>: the log's events packed a
/// row per append and removed from the file in batches, edges journaled and folded into their table,
/// the duplicate window in learning order, and the upgrade of a version-2 file, on real files. What
/// a read or a load returns is checked against models: every event appended, direct writes (each
/// edge upserted when changed), and the in-memory store's window.
/// </summary>
public sealed class SqliteLayoutTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Directory.CreateTempSubdirectory("pml-journal-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_floor_is_exact_after_every_append_and_reopen_while_rows_leave_the_file_in_batches()
    {
        var path = Db("batches.db");
        var options = new SqliteEventLogOptions { MaxEvents = 10 };
        var random = new Random(5);
        var peakRows = 0L;
        var batchesRemoved = 0;
        for (var reopen = 0; reopen < 6; reopen++)
        {
            using var store = new SqliteToolGraphStore(path, options);
            var log = Log(store);
            var state = log.Open();
            for (var append = 0; append < 25; append++)
            {
                var rowsBefore = (long)(await ScalarAsync(path, "SELECT count(*) FROM event_log"))!;
                state = log.Append(Records(state.LastOffset + 1, random.Next(1, 6)), []);
                Assert.Equal(Math.Max(0, state.LastOffset - 10), state.Floor);
                AssertOffsets(state.Floor + 1, state.LastOffset, log.Read(0, long.MaxValue, 100));
                var rows = (long)(await ScalarAsync(path, "SELECT count(*) FROM event_log"))!;
                peakRows = Math.Max(peakRows, rows);
                batchesRemoved += rows < rowsBefore ? 1 : 0;

                // What the file says it removed is never above the floor.
                Assert.InRange((long)(await ScalarAsync(path, "SELECT trimmed_through FROM event_log_meta"))!, 0, state.Floor);
            }

            store.Dispose();
            using var reopened = new SqliteToolGraphStore(path, options);
            Assert.Equal(state, Log(reopened).Open());
        }

        // Rows wait for a batch: never more than a batch of appends wholly below the floor, plus those holding the ten.
        Assert.True(batchesRemoved >= 3, $"{batchesRemoved} batches");
        Assert.InRange(peakRows, SqliteEventLog.DeleteBatchRows, SqliteEventLog.DeleteBatchRows + 10);
        AssertIntact(path);
    }

    [Fact]
    public void Reads_of_any_range_and_count_across_packed_rows_return_exactly_those_events()
    {
        var path = Db("reads.db");
        using var store = new SqliteToolGraphStore(path, new SqliteEventLogOptions { MaxEvents = 200 });
        var log = Log(store);
        var random = new Random(9);
        log.Open();
        Dictionary<long, EventLogRecord> appended = [];
        for (var i = 0; i < 60; i++)
        {
            var first = log.State.LastOffset + 1;
            EventLogRecord[] records = [.. Enumerable.Range(0, random.Next(1, 12)).Select(j => new EventLogRecord(first + j, j % 3 == 0 ? "workflow_executed" : "édge_updated", Encoding.UTF8.GetBytes(new string('x', random.Next(0, 300)) + (first + j))))];
            log.Append(records, []);
            foreach (var record in records)
            {
                appended[record.Offset] = record;
            }
        }

        var state = log.State;
        for (var i = 0; i < 300; i++)
        {
            var after = random.NextInt64(state.Floor, state.LastOffset + 1);
            var through = random.NextInt64(after, state.LastOffset + 3);
            var max = random.Next(1, 60);
            var read = log.Read(after, through, max);
            var expected = Enumerable.Range(0, (int)Math.Min(Math.Min(through, state.LastOffset) - after, max)).Select(k => appended[after + 1 + k]).ToArray();
            Assert.Equal(expected.Select(r => (r.Offset, r.EventType)), read.Select(r => (r.Offset, r.EventType)));
            Assert.Equal(expected.Select(r => r.Data.ToArray()), read.Select(r => r.Data.ToArray()));
        }

        AssertIntact(path);
    }

    [Fact]
    public async Task Edges_load_as_direct_writes_would_have_left_them_before_and_after_folds_and_reopens()
    {
        var path = Db("journal.db");
        var random = new Random(7);
        var model = new EdgeModel();
        var folds = 0;
        for (var reopen = 0; reopen < 4; reopen++)
        {
            using var store = new SqliteToolGraphStore(path) { EdgeJournalFoldThreshold = 23 };
            var log = Log(store);
            log.Open();
            Assert.Equal(model.Edges, (await store.LoadAsync(Ct)).Edges);
            for (var step = 0; step < 30; step++)
            {
                var before = store.EdgeJournalLength;

                // Through the log's append (one to three changes in one transaction) and through SaveChangesAsync.
                var changes = Enumerable.Range(0, random.Next(1, 4)).Select(_ => model.Change(random, random.Next(0, 9))).ToArray();
                if (step % 3 == 0)
                {
                    foreach (var change in changes)
                    {
                        await store.SaveChangesAsync(change, Ct);
                    }
                }
                else
                {
                    log.Append(Records(log.State.LastOffset + 1, 2), changes);
                }

                var added = changes.Sum(c => c.Edges.Count);
                if (store.EdgeJournalLength != before + added)
                {
                    folds++;
                }

                Assert.InRange(store.EdgeJournalLength, 0, 23);
                Assert.Equal(model.Edges, (await store.LoadAsync(Ct)).Edges);
            }
        }

        Assert.True(folds >= 5, $"{folds} folds");
        Assert.Equal(model.Edges.Count, Convert.ToInt32(await ScalarAsync(path, "SELECT count(*) FROM tool_dependency"), CultureInfo.InvariantCulture) + (await CountNewInJournalAsync(path, model)));
        AssertIntact(path);
    }

    [Fact]
    public async Task A_clean_close_folds_the_journal_so_the_file_at_rest_has_every_edge_in_tool_dependency()
    {
        var path = Db("close-folds.db");
        var model = new EdgeModel();
        var random = new Random(11);
        using (var store = new SqliteToolGraphStore(path))
        {
            var log = Log(store);
            log.Open();
            for (var i = 0; i < 5; i++)
            {
                log.Append(Records(log.State.LastOffset + 1, 2), [model.Change(random, 6)]);
            }

            Assert.True(store.EdgeJournalLength > 0);
            Assert.Equal(0L, await ScalarAsync(path, "SELECT count(*) FROM tool_dependency"));
        }

        Assert.Equal((long)model.Edges.Count, await ScalarAsync(path, "SELECT count(*) FROM tool_dependency"));
        Assert.Equal(0L, await ScalarAsync(path, "SELECT count(*) FROM tool_dependency_journal"));
        using (var reopened = new SqliteToolGraphStore(path))
        {
            Assert.Equal(model.Edges, (await reopened.LoadAsync(Ct)).Edges);
        }

        AssertIntact(path);
    }

    [Fact]
    public async Task A_commit_that_would_fold_and_fails_leaves_table_journal_and_memory_as_they_were()
    {
        var path = Db("fold-fails.db");
        var model = new EdgeModel();
        var random = new Random(3);
        using (var store = new SqliteToolGraphStore(path) { EdgeJournalFoldThreshold = 10 })
        {
            var log = Log(store);
            log.Open();
            log.Append(Records(1, 1), [model.Change(random, 4), model.Change(random, 4)]);
            Assert.Equal(8, store.EdgeJournalLength);
            var committed = model.Edges.ToArray();

            // This one crosses the threshold: its transaction would fold the journal into the table.
            var failing = new EdgeModel(model).Change(random, 5);
            store.BeforeCommit = () => throw new IOException("Simulated crash before commit.");
            Assert.Throws<IOException>(() => log.Append(Records(2, 1), [failing]));
            store.BeforeCommit = () => throw new SqliteException("Simulated disk full.", 13);
            Assert.Throws<ToolGraphStoreException>(() => log.Append(Records(2, 1), [failing]));
            store.BeforeCommit = null;
            Assert.Equal(committed, (await store.LoadAsync(Ct)).Edges);
            Assert.Equal(8, store.EdgeJournalLength);
            Assert.Equal(0L, await ScalarAsync(path, "SELECT count(*) FROM tool_dependency"));

            // Retried, it folds: the table holds every edge, the journal nothing.
            var retried = model.Change(random, 5);
            log.Append(Records(2, 1), [retried]);
            Assert.Equal(0, store.EdgeJournalLength);
            Assert.Equal(model.Edges, (await store.LoadAsync(Ct)).Edges);
        }

        Assert.Equal((long)model.Edges.Count, await ScalarAsync(path, "SELECT count(*) FROM tool_dependency"));
        Assert.Equal(0L, await ScalarAsync(path, "SELECT count(*) FROM tool_dependency_journal"));
        using (var reopened = new SqliteToolGraphStore(path))
        {
            Assert.Equal(model.Edges, (await reopened.LoadAsync(Ct)).Edges);
        }

        AssertIntact(path);
    }

    [Fact]
    public async Task The_window_matches_the_in_memory_store_over_random_batches_and_reopens()
    {
        var path = Db("window.db");
        var random = new Random(11);
        var memory = new InMemoryToolGraphStore();
        var next = 0;
        var deletions = 0;
        var rowsBefore = 0L;
        var clock = T0;
        for (var reopen = 0; reopen < 5; reopen++)
        {
            using var store = new SqliteToolGraphStore(path);
            var log = Log(store);
            log.Open();
            for (var step = 0; step < 40; step++)
            {
                // Mostly forward in time, sometimes a clock stepped back; POSTs share their time.
                clock = clock.AddMilliseconds(random.Next(-200, 2_000));
                var count = random.Next(1, 8);
                var changes = new ToolGraphChanges($"w{next}", [], [])
                {
                    LearnedExecutions = [.. Enumerable.Range(0, count).Select(i => new LearnedExecution($"e{next++}", random.Next(4) == 0 ? clock.AddMilliseconds(i) : clock))],
                    DuplicateWindowCount = random.Next(0, 4) == 0 ? random.Next(0, 5) : random.Next(5, 40),
                    DuplicateWindowAge = TimeSpan.FromMilliseconds(random.Next(1_000, 20_000)),
                };
                await memory.SaveChangesAsync(changes, Ct);
                if (step % 2 == 0)
                {
                    await store.SaveChangesAsync(changes, Ct);
                }
                else
                {
                    log.Append(Records(log.State.LastOffset + 1, 1), [changes]);
                }

                var held = (await memory.LoadAsync(Ct)).LearnedExecutions;
                Assert.Equal(held, (await store.LoadAsync(Ct)).LearnedExecutions);

                // A row per change: those wholly out of the window leave the file in batches.
                var rows = (long)(await ScalarAsync(path, "SELECT count(*) FROM learned_execution"))!;
                Assert.InRange(rows, 0, held.Count + SqliteLearnedExecutions.DeleteBatchRows);
                deletions += rows < rowsBefore ? 1 : 0;
                rowsBefore = rows;
            }
        }

        Assert.True(deletions >= 2, $"{deletions} batch deletions");

        AssertIntact(path);
    }

    [Fact]
    public async Task A_version_2_file_is_upgraded_keeping_its_graph_log_and_window_in_order()
    {
        var path = Db("v2.db");
        var epoch = GraphEventId.NewEpoch();
        await RawSqlAsync(path, $$"""
            PRAGMA journal_mode = WAL;
            CREATE TABLE tool (tool_id TEXT NOT NULL PRIMARY KEY, name TEXT NULL, server_id TEXT NULL, metadata TEXT NULL);
            CREATE TABLE tool_dependency (from_tool_id TEXT NOT NULL, to_tool_id TEXT NOT NULL, observed_count INTEGER NOT NULL,
                confidence_score REAL NOT NULL, PRIMARY KEY (from_tool_id, to_tool_id));
            CREATE TABLE event_log (offset INTEGER PRIMARY KEY, event_type TEXT NOT NULL, data BLOB NOT NULL);
            CREATE TABLE event_log_meta (id INTEGER PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL, trimmed_through INTEGER NOT NULL);
            INSERT INTO event_log_meta (id, epoch, trimmed_through) VALUES (1, '{{epoch}}', 4);
            CREATE TABLE learned_execution (execution_id TEXT NOT NULL PRIMARY KEY, learned_at INTEGER NOT NULL);
            CREATE INDEX learned_execution_by_time ON learned_execution (learned_at);
            INSERT INTO tool VALUES ('a', 'Alpha', NULL, '{"k":"v"}'), ('b', NULL, NULL, NULL), ('c', NULL, NULL, NULL);
            INSERT INTO tool_dependency VALUES ('b', 'c', 2, 0.625), ('a', 'b', 3, 0.75);
            WITH RECURSIVE n(i) AS (SELECT 5 UNION ALL SELECT i + 1 FROM n WHERE i < 604)
            INSERT INTO event_log SELECT i, CASE i % 2 WHEN 0 THEN 'edge_updated' ELSE 'edge_created' END, CAST('{"offset":' || i || '}' AS BLOB) FROM n;
            INSERT INTO learned_execution VALUES ('w3', {{T0.AddSeconds(3).ToUnixTimeMilliseconds()}}), ('w1', {{T0.AddSeconds(1).ToUnixTimeMilliseconds()}}), ('w2', {{T0.AddSeconds(2).ToUnixTimeMilliseconds()}});
            PRAGMA user_version = 2;
            """);

        using (var store = new SqliteToolGraphStore(path))
        {
            var log = Log(store);
            Assert.Equal(new EventLogState(epoch, 4, 604), log.Open());
            var events = log.Read(0, 1_000, 1_000);
            Assert.Equal(Enumerable.Range(5, 600).Select(i => (long)i), events.Select(r => r.Offset));
            Assert.Equal(Enumerable.Range(5, 600).Select(i => i % 2 == 0 ? "edge_updated" : "edge_created"), events.Select(r => r.EventType));
            Assert.Equal(Enumerable.Range(5, 600).Select(i => $"{{\"offset\":{i}}}"), events.Select(r => Encoding.UTF8.GetString(r.Data.Span)));
            var contents = await store.LoadAsync(Ct);
            Assert.Equal(["a", "b", "c"], contents.Tools.Select(t => t.Id));
            Assert.Equal("v", contents.Tools[0].Metadata!["k"]);
            Assert.Equal([new ToolGraphEdge("b", "c", 0.625, 2), new ToolGraphEdge("a", "b", 0.75, 3)], contents.Edges);
            Assert.Equal([new LearnedExecution("w1", T0.AddSeconds(1)), new LearnedExecution("w2", T0.AddSeconds(2)), new LearnedExecution("w3", T0.AddSeconds(3))], contents.LearnedExecutions);

            // The upgraded file goes on: offsets continue, the window trims from its oldest end.
            var change = new ToolGraphChanges("w4", [], [new ToolGraphEdge("a", "b", 0.8, 4)])
            {
                LearnedExecutions = [new LearnedExecution("w4", T0.AddSeconds(4))],
                DuplicateWindowCount = 3,
                DuplicateWindowAge = TimeSpan.FromDays(1),
            };
            Assert.Equal(605, log.Append(Records(605, 1), [change]).LastOffset);
        }

        Assert.Equal((long)SqliteToolGraphStore.SchemaVersion, await ScalarAsync(path, "PRAGMA user_version"));
        Assert.Equal(0L, await ScalarAsync(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('learned_execution_by_time', 'learned_execution_v2', 'event_log_v2')"));
        using (var reopened = new SqliteToolGraphStore(path))
        {
            Assert.Equal(new EventLogState(epoch, 4, 605), Log(reopened).Open());
            Assert.Equal(601, Log(reopened).Read(0, 1_000, 1_000).Count);
            var contents = await reopened.LoadAsync(Ct);
            Assert.Equal([new ToolGraphEdge("b", "c", 0.625, 2), new ToolGraphEdge("a", "b", 0.8, 4)], contents.Edges);
            Assert.Equal(["w2", "w3", "w4"], contents.LearnedExecutions.Select(e => e.ExecutionId));
        }

        AssertIntact(path);
    }

    [Fact]
    public async Task A_version_2_window_of_many_ids_is_packed_in_learning_order()
    {
        // 1,000 ids with long ones among them (rows of 256 outgrow the first buffer), inserted out of order.
        var path = Db("v2-window.db");
        await RawSqlAsync(path, $$"""
            PRAGMA journal_mode = WAL;
            CREATE TABLE tool (tool_id TEXT NOT NULL PRIMARY KEY, name TEXT NULL, server_id TEXT NULL, metadata TEXT NULL);
            CREATE TABLE tool_dependency (from_tool_id TEXT NOT NULL, to_tool_id TEXT NOT NULL, observed_count INTEGER NOT NULL,
                confidence_score REAL NOT NULL, PRIMARY KEY (from_tool_id, to_tool_id));
            CREATE TABLE event_log (offset INTEGER PRIMARY KEY, event_type TEXT NOT NULL, data BLOB NOT NULL);
            CREATE TABLE event_log_meta (id INTEGER PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL, trimmed_through INTEGER NOT NULL);
            INSERT INTO event_log_meta (id, epoch, trimmed_through) VALUES (1, '{{GraphEventId.NewEpoch()}}', 0);
            CREATE TABLE learned_execution (execution_id TEXT NOT NULL PRIMARY KEY, learned_at INTEGER NOT NULL);
            CREATE INDEX learned_execution_by_time ON learned_execution (learned_at);
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
            INSERT INTO learned_execution SELECT 'e' || ((i * 7919) % 1000) || substr(hex(zeroblob(40)), 1, (i % 5) * 20),
                {{T0.ToUnixTimeMilliseconds()}} + ((i * 7919) % 1000) * 1000 FROM n;
            PRAGMA user_version = 2;
            """);

        using var store = new SqliteToolGraphStore(path);
        var learned = (await store.LoadAsync(Ct)).LearnedExecutions;
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => T0.AddSeconds(i)), learned.Select(e => e.LearnedAt));
        Assert.All(learned, e => Assert.StartsWith($"e{(e.LearnedAt - T0).TotalSeconds}", e.ExecutionId, StringComparison.Ordinal));
        Assert.Equal(4L, await ScalarAsync(path, "SELECT count(*) FROM learned_execution"));
    }

    [Fact]
    public async Task A_window_or_journal_that_cannot_be_read_is_an_error_naming_the_file()
    {
        var gap = Db("gap.db");
        var torn = Db("torn.db");
        var tornWindow = Db("torn-window.db");
        var floor = Db("floor.db");
        foreach (var path in new[] { gap, torn, tornWindow, floor })
        {
            using var store = new SqliteToolGraphStore(path);
            for (var i = 0; i < 3; i++)
            {
                await store.SaveChangesAsync(new ToolGraphChanges("w", [], [new ToolGraphEdge("a", "b", 0.5, 1)])
                {
                    LearnedExecutions = [new LearnedExecution($"w{i}a", T0), new LearnedExecution($"w{i}b", T0)],
                    DuplicateWindowCount = 10,
                    DuplicateWindowAge = TimeSpan.FromDays(1),
                }, Ct);
            }
        }

        await RawSqlAsync(gap, "DELETE FROM learned_execution WHERE first_seq = 3");
        // A clean close folds the journal, so the torn row is one a crash would have left.
        await RawSqlAsync(torn, "INSERT INTO tool_dependency_journal (edges) VALUES (x'0103616263')");
        await RawSqlAsync(tornWindow, "UPDATE learned_execution SET executions = x'01020561' WHERE first_seq = 3");
        await RawSqlAsync(floor, "UPDATE learned_execution SET floor = 7 WHERE first_seq = 5");
        foreach (var (path, what) in new[] { (gap, "gap"), (torn, "journal"), (tornWindow, "cannot be read"), (floor, "floor") })
        {
            using var store = new SqliteToolGraphStore(path);
            var error = await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await store.LoadAsync(Ct));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Contains(what, error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Edges the journal created that the table does not hold yet.</summary>
    private static async Task<int> CountNewInJournalAsync(string path, EdgeModel model)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT from_tool_id, to_tool_id FROM tool_dependency";
        HashSet<(string, string)> inTable = [];
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                inTable.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        return model.Edges.Count(e => !inTable.Contains((e.FromToolId, e.ToToolId)));
    }

    [SuppressMessage("Performance", "CA1859", Justification = "The log is the store's explicit interface implementation: reached through the interface only.")]
    private static IGraphEventLog Log(SqliteToolGraphStore store) => store;

    private static EventLogRecord[] Records(long first, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new EventLogRecord(first + i, "edge_updated", Encoding.UTF8.GetBytes($"{{\"offset\":{first + i}}}")))];

    private static void AssertOffsets(long first, long last, IReadOnlyList<EventLogRecord> records) =>
        Assert.Equal(Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + i), records.Select(r => r.Offset));

    private string Db(string name) => Path.Combine(_directory, name);

    private static void AssertIntact(string path) =>
        Assert.Equal("ok", ScalarAsync(path, "PRAGMA integrity_check").GetAwaiter().GetResult()?.ToString());

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

    /// <summary>
    /// What direct writes leave: each change upserted at once, so an edge keeps its place (the order it
    /// was first written in) and takes its latest state.
    /// </summary>
    private sealed class EdgeModel
    {
        private static readonly string[] Tools = ["a", "b", "c", "d", "e", "f", "g"];
        private readonly Dictionary<(string, string), int> _index;

        public EdgeModel()
        {
            Edges = [];
            _index = [];
        }

        public EdgeModel(EdgeModel other)
        {
            Edges = [.. other.Edges];
            _index = new(other._index);
        }

        public List<ToolGraphEdge> Edges { get; }

        /// <summary>A change of <paramref name="count"/> edges, new or reinforced, some more than once; applied to the model.</summary>
        public ToolGraphChanges Change(Random random, int count)
        {
            List<ToolGraphEdge> changed = [];
            while (changed.Count < count)
            {
                var from = Tools[random.Next(Tools.Length)];
                var to = Tools[random.Next(Tools.Length)];
                if (from == to)
                {
                    continue;
                }

                ToolGraphEdge edge;
                if (_index.TryGetValue((from, to), out var at))
                {
                    edge = Edges[at] with { ObservedCount = Edges[at].ObservedCount + 1, ConfidenceScore = Math.Min(1, Edges[at].ConfidenceScore + 0.0625) };
                    Edges[at] = edge;
                }
                else
                {
                    edge = new ToolGraphEdge(from, to, 0.5, 1);
                    _index[(from, to)] = Edges.Count;
                    Edges.Add(edge);
                }

                changed.Add(edge);
            }

            return new ToolGraphChanges("w", [], changed);
        }
    }
}
