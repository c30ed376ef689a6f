using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// The duplicate window's table, <c>learned_execution(first_seq, floor, executions)</c>: the ids a
/// change learned, with their times, packed in one row, numbered in the order learned (each id's
/// <c>seq</c>: the row's <c>first_seq</c>, the rowid, then consecutive), appended at the newest end;
/// the window is trimmed at the oldest, by count and by age, as the engine's own window
/// (<c>LearnedExecutionWindow</c>) trims. Called under the store's gate only.
/// </summary>
/// <remarks>
/// <para>
/// Why no index on the id: a commit of 10 ids into a window of 100,000 random ids (GUIDs) touched
/// about twenty B-tree pages of such an index (each id's insert, and each forgotten id's delete, at
/// a random leaf), the biggest part of a commit's writes (measured, the layout before: 410 µs of CPU and 173 KiB written per
/// POST, of 1,100 µs and 344 KiB). The engine never stores an id twice within its window (it answers
/// it as a duplicate); an id it learns again after it left the window is stored again, and the
/// engine's window keeps the newer time when both load.
/// </para>
/// <para>
/// Why a row per change, with the floor in it: each row carries the window's floor as of its commit
/// (every seq up to it has left the window), so the trim of an append is the number in its own row,
/// and rows wholly below the floor leave the file in batches of <see cref="DeleteBatchRows"/>. A row
/// per id, deleted as it left, made each commit insert ten rows and rewrite the table's first page
/// as well as its last. The trims need each id's time, which this class keeps in memory run-length
/// encoded (a POST's ids share their time): a few hundred KB for a window of 100,000, so trimming
/// reads nothing.
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its statements belong to the store's connection: Detach finalizes them when the store closes it, and Attach prepares them again on the next.")]
internal sealed class SqliteLearnedExecutions
{
    /// <summary>The table, created by a new file and by the upgrades to version 3.</summary>
    internal const string CreateSchemaSql = """
        CREATE TABLE learned_execution (
            first_seq  INTEGER PRIMARY KEY, -- the learning order of the row's first id: 1, 2, ... (the rowid); its others follow
            floor      INTEGER NOT NULL,    -- every seq up to this one had left the window when the row was written
            executions BLOB    NOT NULL     -- the ids and their times, packed: see SqliteLearnedExecutions
        );

        """;

    /// <summary>Rows wholly below the floor that make a write remove them from the file.</summary>
    internal const int DeleteBatchRows = 32;

    /// <summary>The table's columns, for the store's schema check.</summary>
    internal static readonly string[] Columns = ["first_seq", "floor", "executions"];

    /// <summary>Version 2's table (a row per id, keyed by it), for the upgrade's check.</summary>
    internal static readonly string[] Version2Columns = ["execution_id", "learned_at"];

    private const byte Format = 1;

    private readonly string _databasePath;

    // Committed: the times of the ids held, oldest first, as runs of equal times; the first
    // _headTaken ids of the first run (at _head) are gone. Ids held are _floor + 1 .. _last.
    private readonly List<Run> _runs = [];
    private int _head;
    private long _headTaken;
    private long _floor;
    private long _last;

    // The rows in the file, oldest first: those wholly at or below the floor wait for a batch removal.
    private readonly Queue<Row> _rows = new();

    // Staged by the transaction in progress (Begin .. Commit): ids written after _last, how many of
    // the oldest it removed, the rows it wrote, and how many of the oldest rows it deleted.
    private readonly List<Run> _staged = [];
    private readonly List<Row> _stagedRows = [];
    private long _stagedLast;
    private long _stagedDropped;
    private int _stagedDeletedRows;

    private byte[] _buffer = new byte[1024];
    private SqliteStatement? _insert;
    private SqliteStatement? _delete;

    public SqliteLearnedExecutions(string databasePath) => _databasePath = databasePath;

    /// <summary>Ids held, as committed.</summary>
    public long Count => _last - _floor;

    /// <summary>
    /// Version 2's table (a row per id, with an index on the time) to version 3's, in the upgrade's
    /// transaction: the ids keep their order, oldest first, packed 256 to a row.
    /// </summary>
    public static void UpgradeFromVersion2(SqliteConnection connection, SqliteTransaction transaction)
    {
        Execute(connection, transaction, "ALTER TABLE learned_execution RENAME TO learned_execution_v2;" + CreateSchemaSql);
        List<LearnedExecution> executions = new(256);
        var buffer = new byte[1024];
        long seq = 1;
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO learned_execution (first_seq, floor, executions) VALUES ($first, 0, $executions)";
        var first = insert.Parameters.Add("$first", SqliteType.Integer);
        var packed = insert.Parameters.Add("$executions", SqliteType.Blob);
        void Flush()
        {
            if (executions.Count > 0)
            {
                first.Value = seq;
                var length = Pack(executions, ref buffer);
                packed.Value = buffer.AsSpan(0, length).ToArray();
                insert.ExecuteNonQuery();
                seq += executions.Count;
                executions.Clear();
            }
        }

        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT execution_id, learned_at FROM learned_execution_v2 ORDER BY learned_at, rowid";
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                executions.Add(new LearnedExecution(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
                if (executions.Count == 256)
                {
                    Flush();
                }
            }
        }

        Flush();
        Execute(connection, transaction, "DROP TABLE learned_execution_v2");
    }

    /// <summary>Reads the rows (their ids' times) from <paramref name="connection"/>, just opened, and prepares the statements.</summary>
    public void Attach(SqliteConnection connection)
    {
        _runs.Clear();
        _rows.Clear();
        _head = 0;
        _headTaken = 0;
        _floor = 0;
        _last = 0;
        var floor = 0L;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT first_seq, floor, executions FROM learned_execution ORDER BY first_seq";
            using var reader = command.ExecuteReader();
            var first = true;
            while (reader.Read())
            {
                var seq = reader.GetInt64(0);
                if (first)
                {
                    _last = seq - 1;
                    first = false;
                }
                else if (seq != _last + 1)
                {
                    throw Unreadable(string.Create(CultureInfo.InvariantCulture, $"a gap: seq {seq} where {_last + 1} was expected"));
                }

                // Each row's floor is the window's as of its commit: the newest row's is the window's now.
                floor = reader.GetInt64(1);
                var count = 0;
                if (!TryUnpack(reader.GetFieldValue<byte[]>(2), (_, at) =>
                {
                    Append(_runs, at, 1);
                    count++;
                }) || count == 0)
                {
                    throw Unreadable(string.Create(CultureInfo.InvariantCulture, $"a row that cannot be read (seq {seq})"));
                }

                _rows.Enqueue(new Row(seq, count));
                _last += count;
            }
        }

        if (_rows.Count > 0)
        {
            if (floor > _last || floor < _rows.Peek().First - 1)
            {
                throw Unreadable(string.Create(CultureInfo.InvariantCulture, $"a floor ({floor}) outside its rows"));
            }

            // The ids below the floor still in rows are not held.
            _floor = _rows.Peek().First - 1;
            DropHead(floor - _floor);
        }

        _insert = new SqliteStatement(connection, "INSERT INTO learned_execution (first_seq, floor, executions) VALUES (?1, ?2, ?3)");

        // The oldest rows are a range at the start of the table's own B-tree.
        _delete = new SqliteStatement(connection, "DELETE FROM learned_execution WHERE first_seq <= ?1");
        Begin();
    }

    /// <summary>Drops the statements of a connection being closed.</summary>
    public void Detach()
    {
        _insert?.Dispose();
        _insert = null;
        _delete?.Dispose();
        _delete = null;
    }

    /// <summary>The ids held, oldest first, as committed; read from <paramref name="connection"/>.</summary>
    public List<LearnedExecution> Load(SqliteConnection connection)
    {
        List<LearnedExecution> learned = new((int)Math.Min(Count, 1_000_000));
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT first_seq, executions FROM learned_execution WHERE first_seq <= $last ORDER BY first_seq";
        command.Parameters.AddWithValue("$last", _last);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var seq = reader.GetInt64(0);
            var floor = _floor;
            if (!TryUnpack(reader.GetFieldValue<byte[]>(1), (id, at) =>
            {
                if (seq++ > floor)
                {
                    learned.Add(new LearnedExecution(id!, DateTimeOffset.FromUnixTimeMilliseconds(at)));
                }
            }, ids: true))
            {
                throw Unreadable(string.Create(CultureInfo.InvariantCulture, $"a row that cannot be read (seq {reader.GetInt64(0)})"));
            }
        }

        return learned;
    }

    /// <summary>Starts a transaction's writes: what an earlier one staged and did not commit is dropped.</summary>
    public void Begin()
    {
        _staged.Clear();
        _stagedRows.Clear();
        _stagedLast = _last;
        _stagedDropped = 0;
        _stagedDeletedRows = 0;
    }

    /// <summary>
    /// Writes <paramref name="changes"/>' learned executions in the store's transaction, then
    /// trims the window: ids learned more than <see cref="ToolGraphChanges.DuplicateWindowAge"/> before
    /// the newest of them (not the clock's now, so a store written with another clock, or a test's,
    /// trims the same way), then the oldest beyond <see cref="ToolGraphChanges.DuplicateWindowCount"/>,
    /// from the oldest end. Staged until <see cref="Commit"/>.
    /// </summary>
    public void Write(ToolGraphChanges changes)
    {
        var learned = changes.LearnedExecutions;
        if (learned.Count == 0)
        {
            return;
        }

        var newest = long.MinValue;
        foreach (var execution in learned)
        {
            var milliseconds = execution.LearnedAt.ToUnixTimeMilliseconds();
            newest = Math.Max(newest, milliseconds);
            Append(_staged, milliseconds, 1);
        }

        var first = _stagedLast + 1;
        _stagedLast += learned.Count;
        var cutoff = changes.DuplicateWindowAge > TimeSpan.Zero
            ? newest - (long)Math.Min(changes.DuplicateWindowAge.TotalMilliseconds, long.MaxValue / 2)
            : long.MinValue;
        _stagedDropped += Trim(cutoff, Math.Max(changes.DuplicateWindowCount, 0));
        var floor = _floor + _stagedDropped;

        // The row, with the floor after this change's trim.
        var insert = _insert!;
        insert.Bind(1, first);
        insert.Bind(2, floor);
        var length = Pack(learned, ref _buffer);
        insert.BindBlob(3, _buffer.AsSpan(0, length));
        insert.Execute();
        _stagedRows.Add(new Row(first, learned.Count));

        // The rows wholly at or below the floor, committed and staged, leave the file in a batch.
        var dead = 0;
        long deadThrough = 0;
        foreach (var row in _rows)
        {
            if (row.First + row.Count - 1 > floor)
            {
                break;
            }

            dead++;
            deadThrough = row.First;
        }

        if (dead == _rows.Count)
        {
            foreach (var row in _stagedRows)
            {
                if (row.First + row.Count - 1 > floor)
                {
                    break;
                }

                dead++;
                deadThrough = row.First;
            }
        }

        if (dead - _stagedDeletedRows >= DeleteBatchRows)
        {
            _delete!.Bind(1, deadThrough);
            _delete.Execute();
            _stagedDeletedRows = dead;
        }
    }

    /// <summary>Applies what the committed transaction staged.</summary>
    public void Commit()
    {
        if (_head == _runs.Count)
        {
            // Every committed run is gone: the new ones must not merge into a dropped one.
            _runs.Clear();
            _head = 0;
            _headTaken = 0;
        }

        foreach (var run in _staged)
        {
            Append(_runs, run.At, run.Count);
        }

        foreach (var row in _stagedRows)
        {
            _rows.Enqueue(row);
        }

        for (var i = 0; i < _stagedDeletedRows; i++)
        {
            _rows.Dequeue();
        }

        _last = _stagedLast;
        DropHead(_stagedDropped);
        Begin();
    }

    /// <summary>Forgets the <paramref name="count"/> oldest ids held.</summary>
    private void DropHead(long count)
    {
        _floor += count;
        while (count > 0)
        {
            var left = _runs[_head].Count - _headTaken;
            if (count < left)
            {
                _headTaken += count;
                break;
            }

            count -= left;
            _head++;
            _headTaken = 0;
        }

        // Compacted once the dropped runs are half the list: amortized O(1) per run.
        if (_head > 64 && _head * 2 > _runs.Count)
        {
            _runs.RemoveRange(0, _head);
            _head = 0;
        }
    }

    /// <summary>
    /// How many of the oldest ids (after those already dropped in this transaction) leave: whole
    /// runs older than <paramref name="cutoff"/> from the oldest end, then the oldest beyond
    /// <paramref name="window"/>, as <c>LearnedExecutionWindow.Trim</c> walks its queue.
    /// </summary>
    private long Trim(long cutoff, long window)
    {
        var count = _stagedLast - _floor - _stagedDropped;
        var skip = _headTaken + _stagedDropped;
        var dropped = 0L;
        var run = _head;
        var inStaged = false;
        while (count > 0)
        {
            // The run holding the oldest id left: committed runs first, then this transaction's.
            var list = inStaged ? _staged : _runs;
            if (run >= list.Count)
            {
                if (inStaged)
                {
                    break;
                }

                inStaged = true;
                run = 0;
                continue;
            }

            var current = list[run];
            if (skip >= current.Count)
            {
                skip -= current.Count;
                run++;
                continue;
            }

            var left = current.Count - skip;
            long leaving;
            if (current.At < cutoff)
            {
                leaving = Math.Min(left, count);
            }
            else if (count > window)
            {
                leaving = Math.Min(left, count - window);
            }
            else
            {
                break;
            }

            dropped += leaving;
            count -= leaving;
            skip += leaving;
        }

        return dropped;
    }

    /// <summary>
    /// Packs <paramref name="executions"/> into <paramref name="buffer"/> (grown as needed) and
    /// returns the length. Format 1: a byte 1, then per id its time as the zigzag varint of its
    /// difference from the one before (from 0 for the first; UTC milliseconds since 1970-01-01), and
    /// its id as a varint UTF-8 length and the bytes.
    /// </summary>
    private static int Pack(IReadOnlyList<LearnedExecution> executions, ref byte[] buffer)
    {
        var needed = 1;
        foreach (var execution in executions)
        {
            needed += 10 + 5 + Encoding.UTF8.GetMaxByteCount(execution.ExecutionId.Length);
        }

        if (buffer.Length < needed)
        {
            buffer = new byte[Math.Max(needed, buffer.Length * 2)];
        }

        var span = buffer.AsSpan();
        span[0] = Format;
        var at = 1;
        var previous = 0L;
        foreach (var execution in executions)
        {
            var milliseconds = execution.LearnedAt.ToUnixTimeMilliseconds();
            var delta = milliseconds - previous;
            previous = milliseconds;
            at += SqliteVarint.Write(span[at..], (ulong)((delta << 1) ^ (delta >> 63)));
            var length = Encoding.UTF8.GetBytes(execution.ExecutionId, span[(at + 5)..]);
            var prefix = SqliteVarint.Write(span[at..], (ulong)length);
            if (prefix != 5)
            {
                span.Slice(at + 5, length).CopyTo(span[(at + prefix)..]);
            }

            at += prefix + length;
        }

        return at;
    }

    /// <summary>Calls <paramref name="each"/> with each id (or <see langword="null"/> unless <paramref name="ids"/>) and its time; false when the row is not of this format or is torn.</summary>
    private static bool TryUnpack(ReadOnlySpan<byte> data, Action<string?, long> each, bool ids = false)
    {
        if (data.IsEmpty || data[0] != Format)
        {
            return false;
        }

        var at = 1;
        var time = 0L;
        while (at < data.Length)
        {
            if (!SqliteVarint.TryRead(data, ref at, out var zigzag) || !SqliteVarint.TryRead(data, ref at, out var length) || length > (ulong)(data.Length - at))
            {
                return false;
            }

            time += (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
            each(ids ? Encoding.UTF8.GetString(data.Slice(at, (int)length)) : null, time);
            at += (int)length;
        }

        return true;
    }

    private static void Append(List<Run> runs, long at, long count)
    {
        if (runs.Count > 0 && runs[^1].At == at)
        {
            runs[^1] = runs[^1] with { Count = runs[^1].Count + count };
        }
        else
        {
            runs.Add(new Run(at, count));
        }
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private ToolGraphStoreException Unreadable(string what) =>
        new(_databasePath, $"The tool graph store '{_databasePath}' has a duplicate window with {what}.", null);

    /// <summary><paramref name="Count"/> consecutive ids learned at <paramref name="At"/> (UTC milliseconds).</summary>
    private readonly record struct Run(long At, long Count);

    /// <summary>A row of the table: <paramref name="Count"/> ids from seq <paramref name="First"/>.</summary>
    private readonly record struct Row(long First, int Count);
}
