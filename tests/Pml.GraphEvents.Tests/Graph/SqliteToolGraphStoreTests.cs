using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Tests.Graph;

public sealed class SqliteToolGraphStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pml-graph-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Round_trip_through_a_real_file_and_a_new_engine()
    {
        var path = Path.Combine(_directory, "graph.db");
        using (var store = new SqliteToolGraphStore(path))
        {
            var engine = ToolGraphEngine.Create(new RecordingPublisher(), store);
            await engine.RegisterToolsAsync(
                [
                    new ToolNode("a", "Alpha", "srv", new Dictionary<string, string> { ["kind"] = "search", ["quote"] = "say \"hi\"\n" }),
                    new ToolNode("b"),
                    new ToolNode("c"),
                ],
                Ct);
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b", "c"]), Ct);
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w2", ["a", "b"]), Ct);
        }

        Assert.True(File.Exists(path));
        using var reopened = new SqliteToolGraphStore(path);
        var engine2 = ToolGraphEngine.Create(new RecordingPublisher(), reopened);
        var snapshot = await engine2.SyncAsync(Ct);

        Assert.Equal(["a", "b", "c"], snapshot.Nodes.Select(n => n.Id));
        var alpha = snapshot.Nodes[0];
        Assert.Equal(("Alpha", "srv"), (alpha.Name, alpha.ServerId));
        Assert.Equal("say \"hi\"\n", alpha.Metadata!["quote"]);
        Assert.Null(snapshot.Nodes[1].Name);
        Assert.True(snapshot.TryGetEdge("a", "b", out var ab));
        Assert.Equal((0.55, 2), (Math.Round(ab.ConfidenceScore, 12), ab.ObservedCount));
        Assert.True(snapshot.TryGetEdge("b", "c", out var bc));
        Assert.Equal((0.5, 1), (bc.ConfidenceScore, bc.ObservedCount));
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_an_error_naming_it_and_the_file_is_left_alone()
    {
        var path = Path.Combine(_directory, "corrupt.db");
        await File.WriteAllTextAsync(path, new string('x', 4096), Ct);
        using var store = new SqliteToolGraphStore(path);
        var events = new RecordingPublisher();
        var engine = ToolGraphEngine.Create(events, store);

        var error = await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await engine.SyncAsync(Ct));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal(path, error.StorePath);
        Assert.Same(ToolGraphSnapshot.Empty, engine.Snapshot);
        Assert.Empty(events.Events);
        Assert.Equal(new string('x', 4096), await File.ReadAllTextAsync(path, Ct));
    }

    [Fact]
    public async Task A_graph_with_state_keeps_it_when_a_sync_from_a_corrupt_file_fails()
    {
        var goodPath = Path.Combine(_directory, "good.db");
        var corruptPath = Path.Combine(_directory, "zeros.db");
        await File.WriteAllBytesAsync(corruptPath, new byte[8192], Ct);
        using var good = new SqliteToolGraphStore(goodPath);
        using var corrupt = new SqliteToolGraphStore(corruptPath);
        var store = new SwitchableStore(good);
        var events = new RecordingPublisher();
        var engine = ToolGraphEngine.Create(events, store);
        await engine.RegisterToolsAsync([new ToolNode("a"), new ToolNode("b")], Ct);
        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b"]), Ct);
        var before = engine.Snapshot;
        events.Clear();
        store.Inner = corrupt;

        var error = await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await engine.SyncAsync(Ct));

        Assert.Contains(corruptPath, error.Message, StringComparison.Ordinal);
        Assert.Same(before, engine.Snapshot);
        Assert.Empty(events.Events);
    }

    [Fact]
    public async Task A_schema_it_does_not_know_is_an_error_naming_the_file()
    {
        var newer = Path.Combine(_directory, "newer.db");
        await RawSqlAsync(newer, "CREATE TABLE tool (tool_id TEXT); PRAGMA user_version = 7;");
        var foreign = Path.Combine(_directory, "foreign.db");
        await RawSqlAsync(foreign, "CREATE TABLE customers (id INTEGER);");
        var broken = Path.Combine(_directory, "broken.db");
        await RawSqlAsync(broken, "CREATE TABLE tool (tool_id TEXT); PRAGMA user_version = 1;");

        // Version 2 with the graph's tables but not the event log's and the learned executions'.
        var brokenV2 = Path.Combine(_directory, "broken-v2.db");
        await RawSqlAsync(brokenV2, """
            CREATE TABLE tool (tool_id TEXT, name TEXT, server_id TEXT, metadata TEXT);
            CREATE TABLE tool_dependency (from_tool_id TEXT, to_tool_id TEXT, observed_count INTEGER, confidence_score REAL);
            PRAGMA user_version = 2;
            """);

        Assert.Equal(3, SqliteToolGraphStore.SchemaVersion);
        foreach (var path in new[] { newer, foreign, broken, brokenV2 })
        {
            using var store = new SqliteToolGraphStore(path);
            var error = await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await store.LoadAsync(Ct));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }

        // A version-1 or version-2 file that is not whole is refused before it is upgraded: it is left as it was.
        Assert.Equal(1L, await ScalarAsync(broken, "PRAGMA user_version"));
        Assert.Equal(2L, await ScalarAsync(brokenV2, "PRAGMA user_version"));
    }

    [Fact]
    public async Task A_new_file_has_schema_version_3()
    {
        var path = Path.Combine(_directory, "new.db");
        using (var store = new SqliteToolGraphStore(path))
        {
            await store.SaveChangesAsync(new ToolGraphChanges(null, [new ToolNode("a")], []), Ct);
        }

        Assert.Equal((long)SqliteToolGraphStore.SchemaVersion, await ScalarAsync(path, "PRAGMA user_version"));
        Assert.Equal("wal", await ScalarAsync(path, "PRAGMA journal_mode"));
    }

    [Fact]
    public async Task A_process_that_stops_mid_write_loses_no_committed_execution()
    {
        // What is on disk at the instant of a crash is what a copy of the files holds if it is taken
        // inside the transaction, after its writes and before its commit. Reopening that copy is
        // reopening after the process died there.
        var path = Path.Combine(_directory, "crash.db");
        var crashCopy = Path.Combine(_directory, "crash-copy.db");
        using var store = new SqliteToolGraphStore(path);
        var engine = ToolGraphEngine.Create(new RecordingPublisher(), store);
        await engine.RegisterToolsAsync(Enumerable.Range(0, 20).Select(i => new ToolNode($"t{i}")), Ct);
        for (var i = 0; i < 50; i++)
        {
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain($"w{i}", [$"t{i % 20}", $"t{(i + 1) % 20}", $"t{(i + 7) % 20}"]), Ct);
        }

        var committed = engine.Snapshot;
        store.BeforeCommit = () =>
        {
            foreach (var suffix in new[] { string.Empty, "-wal" })
            {
                if (File.Exists(path + suffix))
                {
                    File.Copy(path + suffix, crashCopy + suffix, overwrite: true);
                }
            }

            throw new IOException("Simulated crash before commit.");
        };

        await Assert.ThrowsAsync<IOException>(async () =>
            await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("in-flight", ["t0", "t1", "t2", "t3", "t4", "t5"]), Ct));

        Assert.Same(committed, engine.Snapshot);

        // The crashed process is gone, and its lock with it.
        store.Dispose();
        foreach (var reopenedPath in new[] { crashCopy, path })
        {
            using var reopened = new SqliteToolGraphStore(reopenedPath);
            var contents = await reopened.LoadAsync(Ct);
            Assert.Equal(
                committed.Edges.OrderBy(e => e.FromToolId, StringComparer.Ordinal).ThenBy(e => e.ToToolId, StringComparer.Ordinal),
                contents.Edges.OrderBy(e => e.FromToolId, StringComparer.Ordinal).ThenBy(e => e.ToToolId, StringComparer.Ordinal));
            Assert.Equal(20, contents.Tools.Count);
        }
    }

    [Fact]
    public async Task A_second_store_on_a_file_in_use_fails_naming_the_file_and_loses_nothing()
    {
        // The story's failure: 5 observations posted to engine A and 2 to engine B sharing a file
        // left the file saying 2. Now B does not start.
        var path = Path.Combine(_directory, "shared.db");
        using var storeA = new SqliteToolGraphStore(path);
        var engineA = ToolGraphEngine.Create(new RecordingPublisher(), storeA);
        await engineA.RegisterToolsAsync([new ToolNode("a"), new ToolNode("b")], Ct);

        using var storeB = new SqliteToolGraphStore(path);
        var events = new RecordingPublisher();
        var engineB = ToolGraphEngine.Create(events, storeB);
        var error = await Assert.ThrowsAsync<ToolGraphStoreException>(async () => await engineB.SyncAsync(Ct));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
        Assert.Equal(path, error.StorePath);
        Assert.Empty(events.Events);

        // Writing through B is refused the same way; A goes on alone.
        await Assert.ThrowsAsync<ToolGraphStoreException>(async () =>
            await storeB.SaveChangesAsync(new ToolGraphChanges("w", [], [new ToolGraphEdge("a", "b", 0.5, 1)]), Ct));
        for (var i = 0; i < 5; i++)
        {
            await engineA.UpdateFromExecutionAsync(WorkflowExecution.Chain($"a{i}", ["a", "b"]), Ct);
        }

        // Once A is closed, B (the same instance, retrying) opens the file and sees all 5.
        storeA.Dispose();
        var synced = await engineB.SyncAsync(Ct);
        Assert.True(synced.TryGetEdge("a", "b", out var edge));
        Assert.Equal(5, edge.ObservedCount);
        Assert.Equal(path + ".lock", storeB.LockPath);
        Assert.True(File.Exists(storeB.LockPath));
    }

    [Fact]
    public async Task The_lock_is_released_on_dispose_and_taken_again_by_the_next_store()
    {
        var path = Path.Combine(_directory, "reopen.db");
        for (var i = 0; i < 3; i++)
        {
            using var store = new SqliteToolGraphStore(path);
            await store.SaveChangesAsync(new ToolGraphChanges($"w{i}", [new ToolNode($"t{i}")], []), Ct);
        }

        using var last = new SqliteToolGraphStore(path);
        Assert.Equal(3, (await last.LoadAsync(Ct)).Tools.Count);
        using var other = new SqliteToolGraphStore(Path.Combine(_directory, "other.db"));
        Assert.Empty((await other.LoadAsync(Ct)).Tools);
    }

    private static async Task RawSqlAsync(string path, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<object?> ScalarAsync(string path, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }

    private sealed class SwitchableStore(IToolGraphStore inner) : IToolGraphStore
    {
        public IToolGraphStore Inner { get; set; } = inner;

        public ValueTask<ToolGraphStoreContents> LoadAsync(CancellationToken cancellationToken = default) => Inner.LoadAsync(cancellationToken);

        public ValueTask SaveChangesAsync(ToolGraphChanges changes, CancellationToken cancellationToken = default) => Inner.SaveChangesAsync(changes, cancellationToken);
    }
}
