using System.Buffers;
using System.Data;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// A store in a SQLite database file: the embedded default. The tables are created on first use:
/// <c>tool(tool_id, name, server_id, metadata)</c> and
/// <c>tool_dependency(from_tool_id, to_tool_id, observed_count, confidence_score)</c>, with
/// <c>PRAGMA user_version = 1</c>. Each <see cref="SaveChangesAsync"/> is one transaction.
/// </summary>
/// <remarks>
/// The database runs in WAL mode with <c>synchronous = NORMAL</c>: a committed transaction survives
/// the process being killed at any point (SQLite ignores an uncommitted tail of the WAL on reopen);
/// only an operating-system crash or power loss may lose the last few commits. One connection is
/// kept open and used by one caller at a time. A file that is not a SQLite database, or whose
/// schema this version does not know, gives a <see cref="ToolGraphStoreException"/> naming the file.
/// <para>
/// One store per file: on first use the store takes an exclusive lock on <see cref="LockPath"/>
/// (the database path plus <c>.lock</c>) and holds it until it is disposed. A second store on the
/// same file, in this process or another, fails on its first use with a
/// <see cref="ToolGraphStoreException"/> naming the file: two engines on one file would each
/// overwrite the other's counts from their own memory, losing updates silently.
/// </para>
/// </remarks>
public sealed class SqliteToolGraphStore : IToolGraphStore, IAsyncDisposable, IDisposable
{
    /// <summary>The schema version this store writes and reads (<c>PRAGMA user_version</c>).</summary>
    public static int SchemaVersion => 1;

    private const string CreateSchemaSql = """
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
        PRAGMA user_version = 1;
        """;

    private static readonly string[] ToolColumns = ["tool_id", "name", "server_id", "metadata"];
    private static readonly string[] DependencyColumns = ["from_tool_id", "to_tool_id", "observed_count", "confidence_score"];

    // One connection, one caller at a time: SQLite serializes writers anyway, and this keeps the
    // file's state (open, schema checked) in one place.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FileStream? _lock;
    private SqliteConnection? _connection;
    private bool _disposed;

    /// <summary>Creates a store on <paramref name="databasePath"/>. Nothing is opened until first use.</summary>
    /// <param name="databasePath">The database file; created, with its tables, when it does not exist.</param>
    public SqliteToolGraphStore(string databasePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        DatabasePath = Path.GetFullPath(databasePath);
        LockPath = DatabasePath + ".lock";
    }

    /// <summary>The database file's full path.</summary>
    public string DatabasePath { get; }

    /// <summary>
    /// The lock file next to the database (<see cref="DatabasePath"/> plus <c>.lock</c>), held
    /// exclusively from the store's first use until it is disposed. It is empty and left in place.
    /// </summary>
    public string LockPath { get; }

    /// <summary>Called inside the transaction of <see cref="SaveChangesAsync"/> after every write and before the commit. For tests that simulate a crash mid-write.</summary>
    internal Action? BeforeCommit { get; set; }

    /// <inheritdoc/>
    public async ValueTask<ToolGraphStoreContents> LoadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = Open();
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

                return new ToolGraphStoreContents(tools, edges);
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
    public async ValueTask SaveChangesAsync(ToolGraphChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = Open();
            try
            {
                using var transaction = connection.BeginTransaction(IsolationLevel.Serializable);
                if (changes.Tools.Count > 0)
                {
                    using var command = connection.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = """
                        INSERT INTO tool (tool_id, name, server_id, metadata) VALUES ($id, $name, $server, $metadata)
                        ON CONFLICT (tool_id) DO UPDATE SET name = excluded.name, server_id = excluded.server_id, metadata = excluded.metadata
                        """;
                    var id = command.Parameters.Add("$id", SqliteType.Text);
                    var name = command.Parameters.Add("$name", SqliteType.Text);
                    var server = command.Parameters.Add("$server", SqliteType.Text);
                    var metadata = command.Parameters.Add("$metadata", SqliteType.Text);
                    foreach (var tool in changes.Tools)
                    {
                        id.Value = tool.Id;
                        name.Value = (object?)tool.Name ?? DBNull.Value;
                        server.Value = (object?)tool.ServerId ?? DBNull.Value;
                        metadata.Value = tool.Metadata is null ? DBNull.Value : WriteMetadata(tool.Metadata);
                        command.ExecuteNonQuery();
                    }
                }

                if (changes.Edges.Count > 0)
                {
                    using var command = connection.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = """
                        INSERT INTO tool_dependency (from_tool_id, to_tool_id, observed_count, confidence_score) VALUES ($from, $to, $count, $confidence)
                        ON CONFLICT (from_tool_id, to_tool_id) DO UPDATE SET observed_count = excluded.observed_count, confidence_score = excluded.confidence_score
                        """;
                    var from = command.Parameters.Add("$from", SqliteType.Text);
                    var to = command.Parameters.Add("$to", SqliteType.Text);
                    var count = command.Parameters.Add("$count", SqliteType.Integer);
                    var confidence = command.Parameters.Add("$confidence", SqliteType.Real);
                    foreach (var edge in changes.Edges)
                    {
                        from.Value = edge.FromToolId;
                        to.Value = edge.ToToolId;
                        count.Value = edge.ObservedCount;
                        confidence.Value = edge.ConfidenceScore;
                        command.ExecuteNonQuery();
                    }
                }

                BeforeCommit?.Invoke();
                transaction.Commit();
            }
            catch (SqliteException ex)
            {
                // Disposing the transaction rolled it back: nothing of this change is stored.
                throw Fail("cannot be written", ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the database file.</summary>
    public void Dispose()
    {
        _gate.Wait();
        try
        {
            _disposed = true;
            _connection?.Dispose();
            _connection = null;

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

    /// <summary>The open connection, opening the file and checking (or creating) its schema on first use.</summary>
    private SqliteConnection Open()
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
            var version = Convert.ToInt64(Scalar(connection, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
            if (version == 0)
            {
                var tables = Convert.ToInt64(Scalar(connection, "SELECT count(*) FROM sqlite_master"), System.Globalization.CultureInfo.InvariantCulture);
                if (tables != 0)
                {
                    throw new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' holds tables but no tool graph schema version (PRAGMA user_version is 0): it is not a tool graph database.", null);
                }

                // WAL before creating anything: it is a property of the file, kept across opens.
                Scalar(connection, "PRAGMA journal_mode = WAL");
                using var transaction = connection.BeginTransaction();
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = CreateSchemaSql;
                command.ExecuteNonQuery();
                transaction.Commit();
            }
            else if (version != SchemaVersion)
            {
                throw new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' has schema version {version}; this version of Pml.GraphEvents.Sqlite knows only version {SchemaVersion}.", null);
            }
            else
            {
                CheckColumns(connection, "tool", ToolColumns);
                CheckColumns(connection, "tool_dependency", DependencyColumns);
                Scalar(connection, "PRAGMA journal_mode = WAL");
            }

            Scalar(connection, "PRAGMA synchronous = NORMAL");
            _connection = connection;
            return connection;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw Fail("cannot be opened", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
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
            // The file may have been damaged or replaced under us: reopen and recheck next time.
            _connection.Dispose();
            _connection = null;
        }

        return new ToolGraphStoreException(DatabasePath, $"The tool graph store '{DatabasePath}' {what}: {ex.Message}", ex);
    }

    private static string WriteMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in metadata)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
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
