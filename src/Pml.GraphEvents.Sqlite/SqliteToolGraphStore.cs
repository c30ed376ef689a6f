using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// A store in a SQLite database file: the embedded default, which also keeps the broadcaster's event
/// log in the same file, so that a graph change and the events it produces commit in one
/// transaction. The tables are created on first use:
/// <c>tool(tool_id, name, server_id, metadata)</c>,
/// <c>tool_dependency(from_tool_id, to_tool_id, observed_count, confidence_score)</c> with
/// <c>tool_dependency_journal(seq, edges)</c> (the edge changes since the table was last brought up to
/// date, packed one row per commit, applied by a load: see <see cref="SqliteEdgeJournal"/>),
/// <c>learned_execution(seq, execution_id, learned_at)</c> (the duplicate window in learning order;
/// <c>learned_at</c> in UTC milliseconds since 1970-01-01),
/// <c>event_log(first_offset, sizes, events)</c> (the event log, one row per append, its events
/// packed: see <see cref="SqliteEventLog"/>) and <c>event_log_meta(id, epoch, trimmed_through)</c>
/// (its epoch and how far rows were removed), with <c>PRAGMA user_version = 3</c>. A file of version
/// 1 (the graph tables only) or 2 (a row per event, no journal, the window keyed by id) is upgraded
/// in place, in one transaction, on first use; a version-1 file's event log starts empty, with a new
/// epoch. Each <see cref="SaveChangesAsync"/> is one transaction.
/// </summary>
/// <remarks>
/// The database runs in WAL mode with <c>synchronous = NORMAL</c>: a committed transaction survives
/// the process being killed at any point (SQLite ignores an uncommitted tail of the WAL on reopen);
/// only an operating-system crash or power loss may lose the last few commits, unless
/// <see cref="SqliteEventLogOptions.SyncEveryCommit"/> asks for <c>synchronous = FULL</c>. One connection is
/// kept open and used by one caller at a time. A file that is not a SQLite database, or whose
/// schema this version does not know, gives a <see cref="ToolGraphStoreException"/> naming the file.
/// <para>
/// The event log (registered as the broadcaster's log by <c>AddSqliteToolGraphStore</c>) keeps the
/// most recent events within <see cref="SqliteEventLogOptions"/>'s bounds, so a client resumes with
/// its <c>Last-Event-ID</c> across a restart; its epoch is made when the log is created and kept for
/// the life of the file.
/// </para>
/// <para>
/// One store per file: on first use the store takes an exclusive lock on <see cref="LockPath"/>
/// (the database path plus <c>.lock</c>) and holds it until it is disposed. A second store on the
/// same file, in this process or another, fails on its first use with a
/// <see cref="ToolGraphStoreException"/> naming the file: two engines on one file would each
/// overwrite the other's counts from their own memory, losing updates silently.
/// </para>
/// </remarks>
public sealed class SqliteToolGraphStore : IToolGraphStore, IGraphEventLog, IAsyncDisposable, IDisposable
{
    /// <summary>
    /// The schema version this store writes and reads (<c>PRAGMA user_version</c>): 3. Version 2
    /// added the event log and the learned executions to version 1's graph tables; version 3 the
    /// edge journal, and the learned executions in learning order. A version-1 or version-2 file is
    /// upgraded on first use.
    /// </summary>
    public static int SchemaVersion => 3;

    private const string CreateGraphSql = """
        CREATE TABLE tool (
            tool_id   TEXT NOT NULL PRIMARY KEY,
            name      TEXT NULL,
            server_id TEXT NULL,
            metadata  TEXT NULL -- a JSON object of strings
        );
        CREATE TABLE tool_dependency (
            from_tool_id     TEXT    NOT NULL,
            to_tool_id       TEXT    NOT NULL,
            observed_count   INTEGER NOT NULL,
            confidence_score REAL    NOT NULL,
            PRIMARY KEY (from_tool_id, to_tool_id)
        );
        """;

    // Version 3's additions to version 1, created with the log's new epoch by both a new file and an upgrade from 1.
    private const string CreateVersion3Sql = SqliteEventLog.CreateSchemaSql + SqliteLearnedExecutions.CreateSchemaSql + SqliteEdgeJournal.CreateSchemaSql + """
        PRAGMA user_version = 3;
        """;


    private static readonly string[] ToolColumns = ["tool_id", "name", "server_id", "metadata"];
    private static readonly string[] DependencyColumns = ["from_tool_id", "to_tool_id", "observed_count", "confidence_score"];

    // One connection, one caller at a time: SQLite serializes writers anyway, and this keeps the
    // file's state (open, schema checked) in one place. The event log's appends share both with the
    // graph's loads and saves, and an append's events and graph changes are one transaction. Resume
    // reads have their own connection (_reader), so they never wait for an append, nor it for them.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SqliteEventLog _log;
    private readonly SqliteGraphChangeWriter _writer;
    private readonly SqliteEventLogReader _reader;
    private readonly bool _syncEveryCommit;
    private FileStream? _lock;
    private SqliteConnection? _connection;
    private SqliteStatement? _begin;
    private SqliteStatement? _commit;
    private SqliteStatement? _rollback;

    private bool _disposed;

    /// <summary>Creates a store on <paramref name="databasePath"/>. Nothing is opened until first use.</summary>
    /// <param name="databasePath">The database file; created, with its tables, when it does not exist.</param>
    /// <param name="eventLog">Retention of the event log; <see langword="null"/> for the defaults. Its values are read now.</param>
    /// <exception cref="ArgumentException"><paramref name="databasePath"/> is empty or white space, or <paramref name="eventLog"/> is invalid (the message names each bad option).</exception>
    public SqliteToolGraphStore(string databasePath, SqliteEventLogOptions? eventLog = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        eventLog ??= new SqliteEventLogOptions();
        var failures = eventLog.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(eventLog));
        }

        DatabasePath = Path.GetFullPath(databasePath);
        LockPath = DatabasePath + ".lock";
        _reader = new SqliteEventLogReader(DatabasePath);
        _log = new SqliteEventLog(DatabasePath, eventLog.MaxEvents, eventLog.MaxBytes);
        _writer = new SqliteGraphChangeWriter(DatabasePath);
        _syncEveryCommit = eventLog.SyncEveryCommit;
    }

    /// <summary>The database file's full path.</summary>
    public string DatabasePath { get; }

    /// <summary>
    /// The lock file next to the database (<see cref="DatabasePath"/> plus <c>.lock</c>), held
    /// exclusively from the store's first use until it is disposed. It is empty and left in place.
    /// </summary>
    public string LockPath { get; }

    /// <summary>
    /// Called inside the transaction of <see cref="SaveChangesAsync"/> and of the event log's append
    /// after every write and before the commit. For tests that simulate a crash mid-write.
    /// </summary>
    internal Action? BeforeCommit { get; set; }

    /// <summary>
    /// Edge changes the journal holds before a commit folds it into <c>tool_dependency</c>
    /// (<see cref="SqliteEdgeJournal.DefaultFoldThreshold"/>). For tests that exercise the fold.
    /// </summary>
    internal int EdgeJournalFoldThreshold
    {
        get => _writer.Edges.FoldThreshold;
        set => _writer.Edges.FoldThreshold = value;
    }

    /// <summary>Edge changes the journal holds now, as committed. For tests.</summary>
    internal int EdgeJournalLength => _writer.Edges.Journaled;

    /// <inheritdoc/>
    public async ValueTask<ToolGraphStoreContents> LoadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = OpenConnection();
            try
            {
                List<ToolNode> tools = [];
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = "SELECT tool_id, name, server_id, metadata FROM tool ORDER BY rowid";
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                    {
                        tools.Add(new ToolNode(
                            reader.GetString(0),
                            reader.IsDBNull(1) ? null : reader.GetString(1),
                            reader.IsDBNull(2) ? null : reader.GetString(2),
                            reader.IsDBNull(3) ? null : ReadMetadata(reader.GetString(3))));
                    }
                }

                List<ToolGraphEdge> edges = [];
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = "SELECT from_tool_id, to_tool_id, confidence_score, observed_count FROM tool_dependency ORDER BY rowid";
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                    {
                        edges.Add(new ToolGraphEdge(reader.GetString(0), reader.GetString(1), reader.GetDouble(2), reader.GetInt32(3)));
                    }
                }

                // The table is as of the journal's last fold: the changes since apply on top.
                _writer.Edges.ApplyTo(edges);

                var learned = _writer.Learned.Load(connection);

                return new ToolGraphStoreContents(tools, edges) { LearnedExecutions = learned };
            }
            catch (Exception ex) when (ex is SqliteException or JsonException or InvalidCastException or FormatException)
            {
                throw Fail("cannot be read", ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Learned executions are appended in the order given (an id written again is stored again: the
    /// engine does so only for an id that left its window, and keeps the newer time when it loads
    /// both), then the window is trimmed from its oldest end, as the engine's own: executions learned
    /// more than <see cref="ToolGraphChanges.DuplicateWindowAge"/> before the newest of the changes',
    /// and beyond the <see cref="ToolGraphChanges.DuplicateWindowCount"/> most recent, are forgotten,
    /// in the same transaction.
    /// </remarks>
    public async ValueTask SaveChangesAsync(ToolGraphChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            OpenConnection();
            try
            {
                Begin();
                try
                {
                    _writer.Write(changes);
                    BeforeCommit?.Invoke();
                    Commit();
                }
                catch
                {
                    // Nothing of this change is stored.
                    Rollback();
                    throw;
                }

                _writer.Commit();
            }
            catch (SqliteException ex)
            {
                throw Fail("cannot be written", ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    EventLogState IGraphEventLog.Open()
    {
        _gate.Wait();
        try
        {
            OpenConnection();
            return _log.State!.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One SQLite transaction: the records, every attachment's graph changes (as
    /// <see cref="SaveChangesAsync"/> writes them, learned executions included) and the retention
    /// they cause (the oldest events leave until the log is within <see cref="SqliteEventLogOptions"/>'s
    /// bounds). After a failure the log's state is what it was before the call.
    /// </remarks>
    EventLogState IGraphEventLog.Append(IReadOnlyList<EventLogRecord> records, IReadOnlyList<object> attachments)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(attachments);
        foreach (var attachment in attachments)
        {
            if (attachment is not ToolGraphChanges)
            {
                throw new ArgumentException($"The SQLite event log stores only {nameof(ToolGraphChanges)} with its events, not {attachment?.GetType().Name ?? "null"}.", nameof(attachments));
            }
        }

        _gate.Wait();
        try
        {
            OpenConnection();
            _log.CheckOffsets(records);
            try
            {
                Begin();
                SqliteEventLog.PendingAppend append;
                try
                {
                    append = _log.Write(records);
                    foreach (var attachment in attachments)
                    {
                        _writer.Write((ToolGraphChanges)attachment);
                    }

                    BeforeCommit?.Invoke();
                    Commit();
                }
                catch
                {
                    // None of the records or changes is stored.
                    Rollback();
                    throw;
                }

                // Only now, once it is in the file: a failure above leaves the in-memory accounts as the file is.
                _writer.Commit();
                return _log.Commit(append);
            }
            catch (SqliteException ex)
            {
                throw Fail("cannot be written", ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    IReadOnlyList<EventLogRecord> IGraphEventLog.Read(long afterOffset, long throughOffset, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);

        // Clamped to what is committed (the state is published after each commit): a range that
        // starts before the floor or ends after the last offset reads what is there, and an empty
        // one reads nothing without a query. Read on the reader's own connection, not under the
        // gate: a resuming client never holds up the pump's appends (WAL lets both run).
        var state = ((IGraphEventLog)this).State;
        var after = Math.Max(afterOffset, state.Floor);
        var through = Math.Min(throughOffset, state.LastOffset);
        if (through <= after || maxCount == 0)
        {
            return [];
        }

        try
        {
            return _reader.Read(after, through, maxCount);
        }
        catch (SqliteException ex)
        {
            throw new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>The connection's <c>PRAGMA synchronous</c> (1 NORMAL, 2 FULL), opening the file if needed. For tests.</summary>
    internal long SynchronousMode()
    {
        _gate.Wait();
        try
        {
            return Convert.ToInt64(Scalar(OpenConnection(), "PRAGMA synchronous"), System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    EventLogState IGraphEventLog.State => _log.State ?? ((IGraphEventLog)this).Open();

    /// <inheritdoc/>
    bool IGraphEventLog.Writes(object attachment) => attachment is ToolGraphChanges;

    /// <summary>Closes the database file.</summary>
    public void Dispose()
    {
        _gate.Wait();
        try
        {
            _disposed = true;
            _reader.Dispose();
            FoldEdgeJournal();
            CloseConnection();

            // Released last, once the connection is closed: the next holder finds the file at rest.
            _lock?.Dispose();
            _lock = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the database file.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The open connection, opening the file and checking (or creating, or upgrading) its schema on first use.</summary>
    private SqliteConnection OpenConnection()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is not null)
        {
            return _connection;
        }

        _lock ??= AcquireLock();

        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,

            // Pooling would keep the file open after Dispose, which surprises anyone who then moves or deletes it.
            Pooling = false,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();

            // The first statement that reads the file is where "file is not a database" shows up.
            var version = Convert.ToInt64(Scalar(connection, "PRAGMA user_version"), CultureInfo.InvariantCulture);
            if (version == 0)
            {
                var tables = Convert.ToInt64(Scalar(connection, "SELECT count(*) FROM sqlite_master"), CultureInfo.InvariantCulture);
                if (tables != 0)
                {
                    throw new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' holds tables but no tool graph schema version (PRAGMA user_version is 0): it is not a tool graph database.", null);
                }

                // WAL before creating anything: it is a property of the file, kept across opens.
                Scalar(connection, "PRAGMA journal_mode = WAL");
                Upgrade(connection, CreateGraphSql + CreateVersion3Sql);
            }
            else if (version == 1)
            {
                // Version 1 is the graph alone: check it, then add version 3's tables, with the log's
                // epoch, in one transaction, so that a crash leaves the file at version 1 or 3, whole.
                CheckColumns(connection, "tool", ToolColumns);
                CheckColumns(connection, "tool_dependency", DependencyColumns);
                Scalar(connection, "PRAGMA journal_mode = WAL");
                Upgrade(connection, CreateVersion3Sql);
            }
            else if (version == 2)
            {
                // Version 2: checked whole, then the window rewritten in learning order and the
                // journal added, in one transaction; the log and its epoch stay as they are.
                CheckColumns(connection, "tool", ToolColumns);
                CheckColumns(connection, "tool_dependency", DependencyColumns);
                CheckColumns(connection, "learned_execution", SqliteLearnedExecutions.Version2Columns);
                CheckColumns(connection, "event_log", SqliteEventLog.Version2Columns);
                CheckColumns(connection, "event_log_meta", SqliteEventLog.Tables[1].Columns);
                Scalar(connection, "PRAGMA journal_mode = WAL");
                UpgradeFromVersion2(connection);
            }
            else if (version != SchemaVersion)
            {
                throw new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' has schema version {version}; this version of Pml.GraphEvents.Sqlite knows versions 1 and 2 (upgraded on first use) and {SchemaVersion}.", null);
            }
            else
            {
                Scalar(connection, "PRAGMA journal_mode = WAL");
            }

            CheckColumns(connection, "tool", ToolColumns);
            CheckColumns(connection, "tool_dependency", DependencyColumns);
            CheckColumns(connection, "learned_execution", SqliteLearnedExecutions.Columns);
            CheckColumns(connection, "tool_dependency_journal", SqliteEdgeJournal.Columns);
            foreach (var (table, columns) in SqliteEventLog.Tables)
            {
                CheckColumns(connection, table, columns);
            }

            // NORMAL: in WAL mode a commit is durable against a killed process, synced at checkpoints;
            // FULL also syncs the WAL at every commit, for hosts whose 202 must survive power loss.
            Scalar(connection, _syncEveryCommit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
            _log.Attach(connection);
            _writer.Attach(connection);

            // Prepared once, like the writes: Microsoft.Data.Sqlite's BeginTransaction and Commit
            // parse their statement on every call. IMMEDIATE, as its Serializable level did.
            _begin = new SqliteStatement(connection, "BEGIN IMMEDIATE");
            _commit = new SqliteStatement(connection, "COMMIT");
            _rollback = new SqliteStatement(connection, "ROLLBACK");
            _connection = connection;
            return connection;
        }
        catch (SqliteException ex)
        {
            DetachAll();
            connection.Dispose();
            throw Fail("cannot be opened", ex);
        }
        catch
        {
            DetachAll();
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Starts a write transaction, taking the write lock at once (no other writer holds it: one store per file).</summary>
    private void Begin()
    {
        _begin!.Execute();
        _writer.Begin();
    }

    private void Commit() => _commit!.Execute();

    /// <summary>Rolls back the transaction in progress, if SQLite has not already ended it; a failure to do so is left to the caller's error.</summary>
    private void Rollback()
    {
        if (_connection?.Handle is { } db && SQLitePCL.raw.sqlite3_get_autocommit(db) == 0)
        {
            try
            {
                _rollback!.Execute();
            }
            catch (SqliteException)
            {
                // The caller's error stands; the next BEGIN fails if the transaction is still open,
                // and that failure closes and reopens the connection.
            }
        }
    }

    /// <summary>
    /// Version 2 to 3 in one transaction, so that a crash leaves the file at version 2 or 3, whole:
    /// the window rewritten in learning order (its index dropped), the log's events packed a row per
    /// 256, and the journal created; the log's epoch and floor stay as they are.
    /// </summary>
    private static void UpgradeFromVersion2(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = SqliteEdgeJournal.CreateSchemaSql;
            command.ExecuteNonQuery();
        }

        SqliteLearnedExecutions.UpgradeFromVersion2(connection, transaction);
        SqliteEventLog.UpgradeFromVersion2(connection, transaction);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "PRAGMA user_version = 3";
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static void Upgrade(SqliteConnection connection, string sql)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        if (sql.Contains("$epoch", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("$epoch", GraphEventId.NewEpoch());
        }

        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>
    /// On a clean close, the edge journal into <c>tool_dependency</c> (one transaction), so that a file
    /// at rest has every edge in the story's table. Best effort: a failure leaves the journal, which
    /// the next open applies as it would after a crash.
    /// </summary>
    private void FoldEdgeJournal()
    {
        if (_connection is null || _writer.Edges.Journaled == 0)
        {
            return;
        }

        try
        {
            Begin();
            try
            {
                _writer.Edges.FoldAll();
                Commit();
            }
            catch
            {
                Rollback();
                throw;
            }

            _writer.Edges.Commit();
        }
        catch (SqliteException)
        {
            // Nothing lost: the journal rows are still there and a load applies them.
        }
    }

    private void CloseConnection()
    {
        // The prepared commands belong to the connection: dropped with it, made again on reopen.
        DetachAll();
        _connection?.Dispose();
        _connection = null;
    }

    private void DetachAll()
    {
        _log.Detach();
        _writer.Detach();
        _begin?.Dispose();
        _begin = null;
        _commit?.Dispose();
        _commit = null;
        _rollback?.Dispose();
        _rollback = null;
    }

    /// <summary>Takes the exclusive lock on <see cref="LockPath"/>, or fails naming the database.</summary>
    /// <remarks>
    /// Why a lock file held open with <see cref="FileShare.None"/>: on Windows the sharing mode is
    /// enforced by the OS; on Unix .NET takes <c>flock(LOCK_EX | LOCK_NB)</c> on it. Both belong to
    /// the open handle, so a second store in the same process is refused as surely as another
    /// process, and the OS drops them when the holder exits however it exits (SIGKILL, crash): no
    /// stale lock to clean up, and the file is never deleted (deleting it would let two holders
    /// lock two different files of the same name). SQLite's own <c>locking_mode = EXCLUSIVE</c> was
    /// not used: its lock is taken only at the first read or write, a busy database makes
    /// Microsoft.Data.Sqlite retry for its command timeout (30 s) before failing, and it would also
    /// lock out read-only inspection with the sqlite3 shell while the server runs; the lock file
    /// leaves the database itself in ordinary WAL mode. The lock is advisory: it keeps out other
    /// stores of this library (any version with this lock), not programs that write the file
    /// directly. It does not hold when .NET file locking is switched off
    /// (<c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>) or on network file systems without flock.
    /// </remarks>
    private FileStream AcquireLock()
    {
        try
        {
            return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException)
        {
            throw new ToolGraphStoreException(
                DatabasePath,
                $"The tool graph store '{DatabasePath}' is in use by another store, in this process or another (its lock file '{LockPath}' is held). One engine per database file: stop the other one or use another file.",
                ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' cannot be opened: its lock file '{LockPath}' cannot be created: {ex.Message}", ex);
        }
    }

    private void CheckColumns(SqliteConnection connection, string table, string[] expected)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
        using var reader = command.ExecuteReader();
        HashSet<string> columns = new(StringComparer.OrdinalIgnoreCase);
        while (reader.Read())
        {
            columns.Add(reader.GetString(0));
        }

        var missing = expected.Where(column => !columns.Contains(column)).ToArray();
        if (missing.Length > 0)
        {
            var what = columns.Count == 0 ? $"has no table {table}" : $"has a table {table} without column(s) {string.Join(", ", missing)}";
            throw new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' {what}: its schema is not the one of version {SchemaVersion}.", null);
        }
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private ToolGraphStoreException Fail(string what, Exception ex)
    {
        if (_connection is not null && ex is SqliteException)
        {
            // The file may have been damaged or replaced under us: reopen and recheck next time
            // (the log's state is then loaded again from what the file holds).
            CloseConnection();
        }

        return new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' {what}: {ex.Message}", ex);
    }

    private static Dictionary<string, string> ReadMetadata(string json)
    {
        using var document = JsonDocument.Parse(json);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            metadata[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
        }

        return metadata;
    }
}
