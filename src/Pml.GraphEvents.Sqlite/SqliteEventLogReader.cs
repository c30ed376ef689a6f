using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// Reads the event log for resuming clients on a connection of its own, so that a reader never
/// waits for the broadcast pump's append and the pump never waits for a reader: in WAL mode a
/// reader sees the last committed state while a writer commits beside it. One read at a time on the
/// connection (a SQLite connection is not for two threads at once); reads are short (a page of
/// records), and readers queue only behind each other.
/// </summary>
internal sealed class SqliteEventLogReader(string databasePath) : IDisposable
{
    private readonly Lock _lock = new();
    private SqliteConnection? _connection;
    private SqliteCommand? _read;
    private SqliteParameter? _after;
    private SqliteParameter? _through;
    private bool _disposed;

    /// <summary>
    /// The records with <paramref name="after"/> &lt; offset ≤ <paramref name="through"/>, oldest
    /// first, at most <paramref name="maxCount"/>; the caller has clamped the range to what the log
    /// has committed.
    /// </summary>
    /// <exception cref="SqliteException">The file cannot be read; the connection is reopened on the next read.</exception>
    public List<EventLogRecord> Read(long after, long through, int maxCount)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                var read = Prepare();
                _after!.Value = after;
                _through!.Value = through;
                List<EventLogRecord> records = new((int)Math.Min(through - after, Math.Min(maxCount, 1024)));
                using var reader = read.ExecuteReader();
                while (records.Count < maxCount && reader.Read())
                {
                    // Each record gets a copy of its data: it owns its bytes.
                    var first = reader.GetInt64(0);
                    if (!SqliteEventBatch.TryRead(first, reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<byte[]>(2), after, through, maxCount, records))
                    {
                        throw new SqliteException(string.Create(CultureInfo.InvariantCulture, $"The event log row at offset {first} cannot be read."), 11 /* SQLITE_CORRUPT */);
                    }
                }

                return records;
            }
            catch (SqliteException)
            {
                // The file may have been damaged or replaced: start from a new connection next time.
                Close();
                throw;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Close();
        }
    }

    private SqliteCommand Prepare()
    {
        if (_read is not null)
        {
            return _read;
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,

            // Read and write, not read-only: a read-only connection to a WAL file cannot recover a
            // missing -shm file; query_only below keeps this one from ever writing.
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = "PRAGMA query_only = 1";
                pragma.ExecuteNonQuery();
            }

            var read = connection.CreateCommand();
            // From the row that holds after + 1 (the last one starting at or before it), through the
            // last one starting at or before through; each a seek on the rowid.
            read.CommandText = """
                SELECT first_offset, sizes, events FROM event_log
                WHERE first_offset >= coalesce((SELECT max(first_offset) FROM event_log WHERE first_offset <= $after + 1), 0)
                  AND first_offset <= $through
                ORDER BY first_offset
                """;
            _after = read.Parameters.Add("$after", SqliteType.Integer);
            _through = read.Parameters.Add("$through", SqliteType.Integer);
            read.Prepare();
            _connection = connection;
            _read = read;
            return read;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Close()
    {
        _read?.Dispose();
        _read = null;
        _connection?.Dispose();
        _connection = null;
    }
}
