using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// The duplicate window's table, <c>learned_execution(seq, execution_id, learned_at)</c>: one row per
/// learned execution id in the order learned (<c>seq</c>, the rowid, consecutive), appended at the
/// newest end and trimmed at the oldest, by count and by age, as the engine's own window
/// (<c>LearnedExecutionWindow</c>) trims. Called under the store's gate only.
/// </summary>
/// <remarks>
/// Why no index on the id: a commit of 10 ids into a window of 100,000 random ids (GUIDs) touched
/// about twenty B-tree pages of such an index (each id's insert, and each forgotten id's delete, at
/// a random leaf), the biggest part of a commit's writes (2025: 410 µs of CPU and 173 KiB written per
/// POST, of 1,100 µs and 344 KiB). In learning order, a commit writes the table's last page and frees
/// from its first: two pages. The engine never stores an id twice within its window (it answers it as
/// a duplicate); an id it learns again after it left the window is stored again, and the engine's
/// window keeps the newer time when both load. The trims need each row's time, which this class
/// keeps in memory run-length encoded (a POST's ids share their time): a few hundred KB for a
/// window of 100,000, so trimming reads nothing.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its statements belong to the store's connection: Detach finalizes them when the store closes it, and Attach prepares them again on the next.")]
internal sealed class SqliteLearnedExecutions
{
    /// <summary>The table, created by a new file and by the upgrades to version 3.</summary>
    internal const string CreateSchemaSql = """
        CREATE TABLE learned_execution (
            seq          INTEGER PRIMARY KEY, -- the learning order: 1, 2, ... (the rowid); trimmed from the oldest
            execution_id TEXT    NOT NULL,
            learned_at   INTEGER NOT NULL     -- UTC, milliseconds since 1970-01-01 (Unix time)
        );
        """;

    /// <summary>
    /// Version 2's table (keyed by the id, with an index on the time) to version 3's, in the upgrade's
    /// transaction: the rows keep their order, oldest first.
    /// </summary>
    internal const string UpgradeFromVersion2Sql = """
        ALTER TABLE learned_execution RENAME TO learned_execution_v2;
        """ + CreateSchemaSql + """

        INSERT INTO learned_execution (execution_id, learned_at)
            SELECT execution_id, learned_at FROM learned_execution_v2 ORDER BY learned_at, rowid;
        DROP TABLE learned_execution_v2;
        """;

    /// <summary>The table's columns, for the store's schema check.</summary>
    internal static readonly string[] Columns = ["seq", "execution_id", "learned_at"];

    private readonly string _databasePath;

    // Committed: the times of the rows held, oldest first, as runs of equal times; the first
    // _headTaken ids of the first run (at _head) are already gone. Rows are _floor + 1 .. _last.
    private readonly List<Run> _runs = [];
    private int _head;
    private long _headTaken;
    private long _floor;
    private long _last;

    // Staged by the transaction in progress (Begin .. Commit): rows written after _last, and how many
    // of the oldest it removed.
    private readonly List<Run> _staged = [];
    private long _stagedLast;
    private long _stagedDropped;

    private SqliteStatement? _insert;
    private SqliteStatement? _trim;

    public SqliteLearnedExecutions(string databasePath) => _databasePath = databasePath;

    /// <summary>Rows held, as committed.</summary>
    public long Count => _last - _floor;

    /// <summary>Reads the rows' times (not their ids) from <paramref name="connection"/>, just opened, and prepares the commands.</summary>
    public void Attach(SqliteConnection connection)
    {
        _runs.Clear();
        _head = 0;
        _headTaken = 0;
        _floor = 0;
        _last = 0;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT seq, learned_at FROM learned_execution ORDER BY seq";
            using var reader = command.ExecuteReader();
            var first = true;
            while (reader.Read())
            {
                var seq = reader.GetInt64(0);
                if (first)
                {
                    _floor = seq - 1;
                    first = false;
                }
                else if (seq != _last + 1)
                {
                    throw new ToolGraphStoreException(
                        _databasePath,
                        string.Create(CultureInfo.InvariantCulture, $"The tool graph store '{_databasePath}' has a duplicate window with a gap: seq {seq} where {_last + 1} was expected."),
                        null);
                }

                _last = seq;
                Append(_runs, reader.GetInt64(1), 1);
            }
        }

        _insert = new SqliteStatement(connection, "INSERT INTO learned_execution (seq, execution_id, learned_at) VALUES (?1, ?2, ?3)");

        // The oldest rows are a range at the start of the table's own B-tree.
        _trim = new SqliteStatement(connection, "DELETE FROM learned_execution WHERE seq <= ?1");
        Begin();
    }

    /// <summary>Drops the commands of a connection being closed.</summary>
    public void Detach()
    {
        _insert?.Dispose();
        _insert = null;
        _trim?.Dispose();
        _trim = null;
    }

    /// <summary>Starts a transaction's writes: what an earlier one staged and did not commit is dropped.</summary>
    public void Begin()
    {
        _staged.Clear();
        _stagedLast = _last;
        _stagedDropped = 0;
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
        var insert = _insert!;
        foreach (var execution in learned)
        {
            var milliseconds = execution.LearnedAt.ToUnixTimeMilliseconds();
            newest = Math.Max(newest, milliseconds);
            insert.Bind(1, ++_stagedLast);
            insert.Bind(2, execution.ExecutionId);
            insert.Bind(3, milliseconds);
            insert.Execute();
            Append(_staged, milliseconds, 1);
        }

        var cutoff = changes.DuplicateWindowAge > TimeSpan.Zero
            ? newest - (long)Math.Min(changes.DuplicateWindowAge.TotalMilliseconds, long.MaxValue / 2)
            : long.MinValue;
        var window = Math.Max(changes.DuplicateWindowCount, 0);
        var dropped = Trim(cutoff, window);
        if (dropped > 0)
        {
            _stagedDropped += dropped;
            _trim!.Bind(1, _floor + _stagedDropped);
            _trim.Execute();
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

        _last = _stagedLast;
        _floor += _stagedDropped;
        var drop = _stagedDropped;
        while (drop > 0)
        {
            var left = _runs[_head].Count - _headTaken;
            if (drop < left)
            {
                _headTaken += drop;
                break;
            }

            drop -= left;
            _head++;
            _headTaken = 0;
        }

        // Compacted once the dropped runs are half the list: amortized O(1) per run.
        if (_head > 64 && _head * 2 > _runs.Count)
        {
            _runs.RemoveRange(0, _head);
            _head = 0;
        }

        Begin();
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

    /// <summary><paramref name="Count"/> consecutive rows learned at <paramref name="At"/> (UTC milliseconds).</summary>
    private readonly record struct Run(long At, long Count);
}
