using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// One SQL statement of the write path, prepared once on the store's connection and run with
/// SQLite's own calls: bind by index, step, reset. Failures throw <see cref="SqliteException"/>,
/// as Microsoft.Data.Sqlite's commands do. One caller at a time (the store's gate).
/// </summary>
/// <remarks>
/// Why not a prepared <see cref="SqliteCommand"/>: each of its executions looks every parameter up
/// by name, binds through a value binder, starts a timer for its busy-retry loop and walks its
/// statements with an iterator and a data reader; on a POST's commit of 45 events, 35 edges and 10
/// ids that was the biggest managed cost of the write path (SafeHandle references, binding,
/// <c>NextResult</c>). Here a row costs its native calls. Loads, schema checks and upgrades still use
/// <see cref="SqliteCommand"/>: they run once per open.
/// </remarks>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    /// <summary>Prepares <paramref name="sql"/>, one statement, on <paramref name="connection"/>'s handle.</summary>
    public SqliteStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = raw.sqlite3_prepare_v3(_db, sql, (uint)raw.SQLITE_PREPARE_PERSISTENT, out var statement);
        if (rc != raw.SQLITE_OK)
        {
            statement?.Dispose();
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        _statement = statement!;
    }

    /// <summary>Binds an integer to the parameter at <paramref name="index"/> (1-based).</summary>
    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    /// <summary>Binds a real to the parameter at <paramref name="index"/> (1-based).</summary>
    public void Bind(int index, double value) => Check(raw.sqlite3_bind_double(_statement, index, value));

    /// <summary>Binds text (or NULL) to the parameter at <paramref name="index"/> (1-based); SQLite copies it.</summary>
    public void Bind(int index, string? value) =>

        // UTF-16 as it is: SQLite converts it to the database's UTF-8 itself, without a managed copy.
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text16(_statement, index, value.AsSpan()));

    /// <summary>Binds a blob to the parameter at <paramref name="index"/> (1-based); SQLite copies it.</summary>
    public void BindBlob(int index, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_blob(_statement, index, value));

    /// <summary>Runs the statement to its end and resets it for the next run; returns the rows it changed.</summary>
    public int Execute()
    {
        var rc = raw.sqlite3_step(_statement);

        // Reset whatever happened: a statement left mid-run would keep its read of the database open.
        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc == raw.SQLITE_ROW ? raw.SQLITE_MISUSE : rc, _db);
        }

        return raw.sqlite3_changes(_db);
    }

    /// <summary>Finalizes the statement; the connection closes after its statements.</summary>
    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
