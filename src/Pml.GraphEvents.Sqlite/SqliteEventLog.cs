using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// The event log's part of <see cref="SqliteToolGraphStore"/>: its tables, its in-memory account of
/// what they hold, and the SQL of append and retention (reads: <see cref="SqliteEventLogReader"/>). The store owns the connection, the
/// gate and the transaction, and calls this under its gate only, so nothing here locks:
/// <see cref="State"/>, which readers may take from any thread, is published as one reference.
/// </summary>
/// <remarks>
/// Tables: <c>event_log(first_offset, sizes, events)</c>, one row per append, its events packed
/// (<see cref="SqliteEventBatch"/>) at consecutive offsets from <c>first_offset</c>, the rowid (so a
/// range read and a trim of the oldest are range scans of the table's own B-tree), and
/// <c>event_log_meta(id = 1, epoch, trimmed_through)</c>, one row: the epoch made with the log and
/// never changed, and how far rows were removed (0 before any). Offsets are consecutive and never
/// reused: the last offset is the last row's last, or <c>trimmed_through</c> when no row is left,
/// which is why the numbering continues after a reopen instead of starting again at 1 (an offset
/// reused would let a client's old id point at a different event).
/// <para>
/// Retention moves the floor (what the log serves) on every append, exactly, and removes rows from
/// the file in batches: once <see cref="DeleteBatchRows"/> appends, or an eighth of the bytes bound,
/// are wholly below the floor, in the transaction of the append that gets there, which also records
/// the floor in <c>trimmed_through</c>. The floor is a function of what the rows hold and the bounds
/// (the newest events within both), so opening the log computes it again; with the same bounds it
/// is the floor the last commit left.
/// </para>
/// <para>
/// Why packed and batched: with a row per event and the oldest deleted on every append, a POST's 45
/// events rewrote about ten pages of the table per commit (the newest leaves, and the oldest as
/// SQLite rebalanced them cell by cell), plus the meta row (measured, the layout before: 12.6 of a commit's 17.3 WAL
/// frames); and 46 statements to run. Packed, an append is one insert: its data, a leaf cell and
/// the pages the data needs.
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its statements belong to the store's connection: Detach finalizes them when the store closes it, and Attach prepares them again on the next.")]
internal sealed class SqliteEventLog
{
    /// <summary>The log's tables, created with a new epoch (<c>$epoch</c>) in the transaction that creates or upgrades the file.</summary>
    internal const string CreateSchemaSql = CreateTableSql + """
        CREATE TABLE event_log_meta (
            id              INTEGER PRIMARY KEY CHECK (id = 1),
            epoch           TEXT    NOT NULL, -- made when the log was created, never changed
            trimmed_through INTEGER NOT NULL  -- how far rows were removed: every offset up to it is gone; 0 before any
        );
        INSERT INTO event_log_meta (id, epoch, trimmed_through) VALUES (1, $epoch, 0);
        """;

    /// <summary>Appends wholly below the floor that make an append remove them from the file.</summary>
    internal const int DeleteBatchRows = 32;

    private const string CreateTableSql = """
        CREATE TABLE event_log (
            first_offset INTEGER PRIMARY KEY, -- the offset of the append's first event (the rowid); the others follow it
            sizes        BLOB    NOT NULL,    -- each event's data size (SqliteEventBatch, format 1)
            events       BLOB    NOT NULL     -- each event's type and data JSON, one line of UTF-8 (SqliteEventBatch)
        );

        """;

    /// <summary>The log's tables and the columns each must have, for the store's schema check.</summary>
    internal static readonly (string Table, string[] Columns)[] Tables =
    [
        ("event_log", ["first_offset", "sizes", "events"]),
        ("event_log_meta", ["id", "epoch", "trimmed_through"]),
    ];

    /// <summary>Version 2's table of the log (a row per event), for the upgrade's check.</summary>
    internal static readonly string[] Version2Columns = ["offset", "event_type", "data"];

    private readonly string _databasePath;
    private readonly int _maxEvents;
    private readonly long _maxBytes;
    private readonly SqliteEventBatch _batch = new();

    // The size of each event held, oldest first: the event at the head has offset _floor + 1. Kept so
    // that retention by bytes knows what removing the oldest frees without reading the table on the
    // append path. 4 bytes per event held (about 400 KB at the default 100,000).
    private readonly Queue<int> _sizes = new();

    // The rows in the file, oldest first: those wholly at or below the floor wait for a batch removal.
    private readonly Queue<Row> _rows = new();
    private long _bytes;
    private string _epoch = string.Empty;
    private long _floor;
    private long _last;
    private long _trimmedThrough;

    // Prepared once per connection: Append runs on the broadcaster's pump once per drain, and
    // preparing (parsing and planning the SQL) would otherwise be paid on every call.
    private SqliteStatement? _insert;
    private SqliteStatement? _delete;
    private SqliteStatement? _deleteMeta;

    // Published whole (a reference), so a reader on another thread never sees a torn state.
    private volatile StateBox? _state;

    public SqliteEventLog(string databasePath, int maxEvents, long maxBytes)
    {
        _databasePath = databasePath;
        _maxEvents = maxEvents;
        _maxBytes = maxBytes;
    }

    /// <summary>The state after the last load or commit; <see langword="null"/> before the log was first loaded.</summary>
    public EventLogState? State => _state?.Value;

    /// <summary>
    /// Converts version 2's log (a row per event, in the table <c>event_log</c>) to rows of packed
    /// events, in the caller's upgrade transaction; the meta row stays as it is.
    /// </summary>
    public static void UpgradeFromVersion2(SqliteConnection connection, SqliteTransaction transaction)
    {
        Execute(connection, transaction, "ALTER TABLE event_log RENAME TO event_log_v2;" + CreateTableSql);
        var batch = new SqliteEventBatch();
        List<EventLogRecord> records = new(256);
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO event_log (first_offset, sizes, events) VALUES ($first, $sizes, $events)";
        var first = insert.Parameters.Add("$first", SqliteType.Integer);
        var sizes = insert.Parameters.Add("$sizes", SqliteType.Blob);
        var events = insert.Parameters.Add("$events", SqliteType.Blob);
        void Flush()
        {
            if (records.Count > 0)
            {
                batch.Pack(records, 0);
                first.Value = records[0].Offset;
                sizes.Value = batch.Sizes.ToArray();
                events.Value = batch.Events.ToArray();
                insert.ExecuteNonQuery();
                records.Clear();
            }
        }

        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT offset, event_type, data FROM event_log_v2 ORDER BY offset";
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                // Packed 256 to a row, in offset order; a gap starts a new row, and opening the log finds it.
                var offset = reader.GetInt64(0);
                if (records.Count == 256 || (records.Count > 0 && offset != records[^1].Offset + 1))
                {
                    Flush();
                }

                records.Add(new EventLogRecord(offset, reader.GetString(1), reader.GetFieldValue<byte[]>(2)));
            }
        }

        Flush();
        Execute(connection, transaction, "DROP TABLE event_log_v2");
    }

    /// <summary>
    /// Loads the log's state from <paramref name="connection"/>, just opened, and prepares its
    /// commands on it. Reads every event's size once (not its data): retention then needs no scan.
    /// </summary>
    public void Attach(SqliteConnection connection)
    {
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT epoch, trimmed_through FROM event_log_meta WHERE id = 1";
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                throw new ToolGraphStoreException(_databasePath, $"The tool graph store '{_databasePath}' has an event log without its epoch (table event_log_meta is empty).", null);
            }

            _epoch = reader.GetString(0);
            _trimmedThrough = reader.GetInt64(1);
        }

        if (!GraphEventId.IsEpoch(_epoch))
        {
            throw new ToolGraphStoreException(_databasePath, $"The tool graph store '{_databasePath}' has an event log whose epoch '{_epoch}' is not one this library makes.", null);
        }

        _rows.Clear();
        List<int> sizes = [];
        var firstHeld = _trimmedThrough + 1;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT first_offset, sizes FROM event_log ORDER BY first_offset";
            using var reader = command.ExecuteReader();
            long? expected = null;
            while (reader.Read())
            {
                // The first row may start at or below trimmed_through + 1 (its oldest events
                // retention removed), never above it; each next row where the one before ends.
                var first = reader.GetInt64(0);
                if (expected is null ? first > _trimmedThrough + 1 : first != expected)
                {
                    throw new ToolGraphStoreException(
                        _databasePath,
                        string.Create(CultureInfo.InvariantCulture, $"The tool graph store '{_databasePath}' has an event log with a gap: offset {first} where {expected ?? _trimmedThrough + 1} was expected."),
                        null);
                }

                var before = sizes.Count;
                if (!SqliteEventBatch.TryReadSizes(reader.GetFieldValue<byte[]>(1), sizes) || sizes.Count == before)
                {
                    throw new ToolGraphStoreException(
                        _databasePath,
                        string.Create(CultureInfo.InvariantCulture, $"The tool graph store '{_databasePath}' has an event log row that cannot be read (first offset {first})."),
                        null);
                }

                if (expected is null)
                {
                    firstHeld = first;
                }

                var count = sizes.Count - before;
                long bytes = 0;
                for (var i = before; i < sizes.Count; i++)
                {
                    bytes += sizes[i];
                }

                _rows.Enqueue(new Row(first, count, bytes));
                expected = first + count;
            }
        }

        // What the rows hold above trimmed_through, then the newest of it within both bounds.
        _last = Math.Max(_trimmedThrough, firstHeld + sizes.Count - 1);
        _floor = Math.Max(_trimmedThrough, firstHeld - 1);
        var skip = (int)(_floor - (firstHeld - 1));
        long held = _last - _floor;
        long total = 0;
        for (var i = skip; i < sizes.Count; i++)
        {
            total += sizes[i];
        }

        while (held > _maxEvents || total > _maxBytes)
        {
            total -= sizes[skip++];
            held--;
            _floor++;
        }

        _sizes.Clear();
        for (var i = skip; i < sizes.Count; i++)
        {
            _sizes.Enqueue(sizes[i]);
        }

        _bytes = total;
        _insert = new SqliteStatement(connection, "INSERT INTO event_log (first_offset, sizes, events) VALUES (?1, ?2, ?3)");

        // Both in the append's transaction: the rows and the meta row's record of them go together.
        _delete = new SqliteStatement(connection, "DELETE FROM event_log WHERE first_offset <= ?1");
        _deleteMeta = new SqliteStatement(connection, "UPDATE event_log_meta SET trimmed_through = ?1 WHERE id = 1");
        Publish();
    }

    /// <summary>Drops the commands of a connection being closed; the state stays as last committed.</summary>
    public void Detach()
    {
        _insert?.Dispose();
        _insert = null;
        _delete?.Dispose();
        _delete = null;
        _deleteMeta?.Dispose();
        _deleteMeta = null;
    }

    /// <summary>Throws unless <paramref name="records"/> continue the log: consecutive offsets from the last one plus 1.</summary>
    /// <exception cref="InvalidOperationException">They do not: a bug of the caller, which numbers them.</exception>
    public void CheckOffsets(IReadOnlyList<EventLogRecord> records)
    {
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Offset != _last + 1 + i)
            {
                throw new InvalidOperationException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"The event log of '{_databasePath}' was given offset {records[i].Offset} at position {i}; the next offset is {_last + 1 + i} (offsets are consecutive from the last appended, {_last})."));
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="records"/> and the retention they cause in the store's transaction.
    /// The in-memory account is not touched: the caller applies the result with
    /// <see cref="Commit"/> once the transaction has committed, so a rolled-back append leaves it as
    /// it was.
    /// </summary>
    public PendingAppend Write(IReadOnlyList<EventLogRecord> records)
    {
        var count = (long)_sizes.Count + records.Count;
        var bytes = _bytes;
        for (var i = 0; i < records.Count; i++)
        {
            bytes += records[i].Data.Length;
        }

        // Retention, decided before writing: the oldest held events leave first, then, if one append
        // alone is over a bound, its own oldest records, which are then not inserted at all.
        var trimmedThrough = _floor;
        var droppedHeld = 0;
        if (count > _maxEvents || bytes > _maxBytes)
        {
            foreach (var size in _sizes)
            {
                if (count <= _maxEvents && bytes <= _maxBytes)
                {
                    break;
                }

                count--;
                bytes -= size;
                trimmedThrough++;
                droppedHeld++;
            }
        }

        var droppedNew = 0;
        while (droppedNew < records.Count && (count > _maxEvents || bytes > _maxBytes))
        {
            count--;
            bytes -= records[droppedNew].Data.Length;
            trimmedThrough = records[droppedNew].Offset;
            droppedNew++;
        }

        long rowBytes = 0;
        if (droppedNew < records.Count)
        {
            _batch.Pack(records, droppedNew);
            var insert = _insert!;
            insert.Bind(1, records[droppedNew].Offset);
            insert.BindBlob(2, _batch.Sizes);
            insert.BindBlob(3, _batch.Events);
            insert.Execute();
            for (var i = droppedNew; i < records.Count; i++)
            {
                rowBytes += records[i].Data.Length;
            }
        }

        // The rows wholly at or below the new floor; removed from the file in a batch. When this
        // append dropped some of its own records, every older row is below the floor and goes now:
        // the rows left must follow each other with no gap.
        var deadRows = 0;
        long deadBytes = 0;
        long deadThrough = 0;
        foreach (var row in _rows)
        {
            if (row.First + row.Count - 1 > trimmedThrough)
            {
                break;
            }

            deadRows++;
            deadBytes += row.Bytes;
            deadThrough = row.First;
        }

        var deletedRows = 0;
        if (deadRows > 0 && (droppedNew > 0 || deadRows >= DeleteBatchRows || deadBytes >= _maxBytes / 8))
        {
            deletedRows = deadRows;
            _delete!.Bind(1, deadThrough);
            _delete.Execute();
        }

        // trimmed_through with the rows it accounts for, and whenever this append dropped some of its
        // own records: the rows left then start right after it (or, with no row left, it is the last offset).
        var recordFloor = deletedRows > 0 || droppedNew > 0;
        if (recordFloor)
        {
            _deleteMeta!.Bind(1, trimmedThrough);
            _deleteMeta.Execute();
        }

        return new PendingAppend(records, droppedHeld, droppedNew, trimmedThrough, bytes, rowBytes, deletedRows, recordFloor);
    }

    /// <summary>Applies a committed <see cref="Write"/> to the in-memory account and returns the new state.</summary>
    public EventLogState Commit(in PendingAppend append)
    {
        for (var i = 0; i < append.DroppedHeld; i++)
        {
            _sizes.Dequeue();
        }

        for (var i = append.DroppedNew; i < append.Records.Count; i++)
        {
            _sizes.Enqueue(append.Records[i].Data.Length);
        }

        for (var i = 0; i < append.DeletedRows; i++)
        {
            _rows.Dequeue();
        }

        if (append.DroppedNew < append.Records.Count)
        {
            _rows.Enqueue(new Row(append.Records[append.DroppedNew].Offset, append.Records.Count - append.DroppedNew, append.RowBytes));
        }

        if (append.Records.Count > 0)
        {
            _last = append.Records[^1].Offset;
        }

        if (append.RecordedFloor)
        {
            _trimmedThrough = append.TrimmedThrough;
        }

        _floor = append.TrimmedThrough;
        _bytes = append.Bytes;
        return Publish();
    }

    private EventLogState Publish()
    {
        var state = new EventLogState(_epoch, _floor, _last);
        _state = new StateBox(state);
        return state;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>What a <see cref="Write"/> did, applied by <see cref="Commit"/> once its transaction committed.</summary>
    internal readonly record struct PendingAppend(IReadOnlyList<EventLogRecord> Records, int DroppedHeld, int DroppedNew, long TrimmedThrough, long Bytes, long RowBytes, int DeletedRows, bool RecordedFloor);

    /// <summary>A row of the table: <paramref name="Count"/> events from <paramref name="First"/>, <paramref name="Bytes"/> of data.</summary>
    private readonly record struct Row(long First, int Count, long Bytes);

    private sealed record StateBox(EventLogState Value);
}
