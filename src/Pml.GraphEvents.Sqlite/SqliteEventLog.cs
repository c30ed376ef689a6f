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
/// Tables: <c>event_log(offset, event_type, data)</c>, one row per event, the offset its rowid (so
/// a range read and a trim of the oldest are range scans of the table's own B-tree), and
/// <c>event_log_meta(id = 1, epoch, trimmed_through)</c>, one row: the epoch made with the log and
/// never changed, and the highest offset retention removed (0 before any). Offsets are consecutive,
/// so what the log holds is exactly <c>trimmed_through + 1 .. last</c>; when retention has emptied
/// the log, <c>trimmed_through</c> is the last offset, which is why the numbering continues after a
/// reopen instead of starting again at 1 (an offset reused would let a client's old id point at a
/// different event).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its statements belong to the store's connection: Detach finalizes them when the store closes it, and Attach prepares them again on the next.")]
internal sealed class SqliteEventLog
{
    /// <summary>The log's tables, created with a new epoch (<c>$epoch</c>) in the transaction that creates or upgrades the file.</summary>
    internal const string CreateSchemaSql = """
        CREATE TABLE event_log (
            offset     INTEGER PRIMARY KEY, -- the event's place in the log: 1, 2, ... (the rowid)
            event_type TEXT    NOT NULL,
            data       BLOB    NOT NULL     -- the data JSON, one line of UTF-8
        );
        CREATE TABLE event_log_meta (
            id              INTEGER PRIMARY KEY CHECK (id = 1),
            epoch           TEXT    NOT NULL, -- made when the log was created, never changed
            trimmed_through INTEGER NOT NULL  -- the highest offset retention removed; 0 before any
        );
        INSERT INTO event_log_meta (id, epoch, trimmed_through) VALUES (1, $epoch, 0);
        """;

    /// <summary>The log's tables and the columns each must have, for the store's schema check.</summary>
    internal static readonly (string Table, string[] Columns)[] Tables =
    [
        ("event_log", ["offset", "event_type", "data"]),
        ("event_log_meta", ["id", "epoch", "trimmed_through"]),
    ];

    private readonly string _databasePath;
    private readonly int _maxEvents;
    private readonly long _maxBytes;

    // The size of each event held, oldest first: the event at the head has offset _floor + 1. Kept so
    // that retention by bytes knows what removing the oldest frees without reading the table on the
    // append path. 4 bytes per event held (about 400 KB at the default 100,000).
    private readonly Queue<int> _sizes = new();
    private long _bytes;
    private string _epoch = string.Empty;
    private long _floor;
    private long _last;

    // Prepared once per connection: Append runs on the broadcaster's pump once per drain, and
    // preparing (parsing and planning the SQL) would otherwise be paid on every call.
    private SqliteStatement? _insert;
    private SqliteStatement? _trim;
    private SqliteStatement? _trimMeta;

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
            _floor = reader.GetInt64(1);
            _last = _floor;
        }

        if (!GraphEventId.IsEpoch(_epoch))
        {
            throw new ToolGraphStoreException(_databasePath, $"The tool graph store '{_databasePath}' has an event log whose epoch '{_epoch}' is not one this library makes.", null);
        }

        _sizes.Clear();
        _bytes = 0;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT offset, length(data) FROM event_log ORDER BY offset";
            using var reader = command.ExecuteReader();
            var expected = _floor + 1;
            while (reader.Read())
            {
                var offset = reader.GetInt64(0);
                if (offset != expected)
                {
                    throw new ToolGraphStoreException(
                        _databasePath,
                        string.Create(CultureInfo.InvariantCulture, $"The tool graph store '{_databasePath}' has an event log with a gap: offset {offset} where {expected} was expected."),
                        null);
                }

                var size = reader.GetInt32(1);
                _sizes.Enqueue(size);
                _bytes += size;
                _last = offset;
                expected++;
            }
        }

        _insert = new SqliteStatement(connection, "INSERT INTO event_log (offset, event_type, data) VALUES (?1, ?2, ?3)");

        // Both in the append's transaction: the rows and the meta row's record of them go together.
        _trim = new SqliteStatement(connection, "DELETE FROM event_log WHERE offset <= ?1");
        _trimMeta = new SqliteStatement(connection, "UPDATE event_log_meta SET trimmed_through = ?1 WHERE id = 1");

        Publish();
    }

    /// <summary>Drops the commands of a connection being closed; the state stays as last committed.</summary>
    public void Detach()
    {
        _insert?.Dispose();
        _insert = null;
        _trim?.Dispose();
        _trim = null;
        _trimMeta?.Dispose();
        _trimMeta = null;
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

        var insert = _insert!;
        for (var i = droppedNew; i < records.Count; i++)
        {
            var record = records[i];
            insert.Bind(1, record.Offset);
            insert.Bind(2, record.EventType);

            // The frame's data bytes as they are (SQLite copies them): no array to rent or copy.
            insert.BindBlob(3, record.Data.Span);
            insert.Execute();
        }

        if (trimmedThrough != _floor)
        {
            _trim!.Bind(1, trimmedThrough);
            _trim.Execute();
            _trimMeta!.Bind(1, trimmedThrough);
            _trimMeta.Execute();
        }

        return new PendingAppend(records, droppedHeld, droppedNew, trimmedThrough, bytes);
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

        if (append.Records.Count > 0)
        {
            _last = append.Records[^1].Offset;
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

    /// <summary>What a <see cref="Write"/> did, applied by <see cref="Commit"/> once its transaction committed.</summary>
    internal readonly record struct PendingAppend(IReadOnlyList<EventLogRecord> Records, int DroppedHeld, int DroppedNew, long TrimmedThrough, long Bytes);

    private sealed record StateBox(EventLogState Value);
}
