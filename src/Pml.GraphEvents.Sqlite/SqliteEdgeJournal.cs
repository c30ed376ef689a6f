using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// The edges' writes: each commit's edge changes go, packed in one row, to the end of
/// <c>tool_dependency_journal(seq, edges)</c>, and are folded into <c>tool_dependency</c> (one upsert
/// per edge changed since the last fold, its latest state) once the journal holds
/// <see cref="FoldThreshold"/> changes, in the transaction of the commit that crosses it. A load
/// reads the table and applies the journal. Called under the store's gate only.
/// </summary>
/// <remarks>
/// Why a journal: an execution's edges are anywhere in <c>tool_dependency</c>, so a POST's 35
/// upserts dirtied about 25 of its pages, each written whole to the WAL and again at the checkpoint
/// (measured, the layout before: 250 µs of CPU and 90 KiB written per POST, of 1,100 µs and 344 KiB). A journal row is
/// appended at the end of its table (a part of one page), and a fold writes each changed edge once
/// however often it changed. The journal is kept in memory too, as written (at most
/// <see cref="FoldThreshold"/> changes, 24 bytes each), so a fold reads nothing and a load applies
/// it without reading the journal table; a commit only appends to it (merging each change into a
/// dictionary of latest states on every commit was 2.8 % of a commit in perf), and the merge is
/// done by a fold and a load, which are rare. A fold
/// writes the edges in the order the journal first changed them, so new edges get their rowids
/// (the order a load returns them in) as if each change had been upserted when it was made.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its statements belong to the store's connection: Detach finalizes them when the store closes it, and Attach prepares them again on the next.")]
internal sealed class SqliteEdgeJournal
{
    /// <summary>The journal table, created by a new file and by the upgrades to version 3.</summary>
    internal const string CreateSchemaSql = """
        CREATE TABLE tool_dependency_journal (
            seq   INTEGER PRIMARY KEY, -- the order of the commits (the rowid)
            edges BLOB    NOT NULL     -- their edge changes, packed (format 1): see SqliteEdgeJournal
        );
        """;

    /// <summary>The journal's columns, for the store's schema check.</summary>
    internal static readonly string[] Columns = ["seq", "edges"];

    /// <summary>Journaled changes that make the next commit fold, by default: about 470 POSTs of 35 changes.</summary>
    internal const int DefaultFoldThreshold = 16_384;

    private const byte Format = 1;

    private readonly string _databasePath;

    // Committed: the changes the journal rows hold, in order.
    private readonly List<ToolGraphEdge> _journal = [];

    // Staged by the transaction in progress (Begin .. Commit).
    private readonly List<IReadOnlyList<ToolGraphEdge>> _staged = [];
    private bool _stagedFold;
    private int _stagedJournaled;

    // Encode's buffer and its list of the row's tools (reused: no allocation per commit).
    private readonly List<string> _tools = [];
    private readonly Dictionary<string, int> _toolIndex = new(ReferenceEqualityComparer.Instance);
    private byte[] _buffer = new byte[4096];
    private SqliteStatement? _append;
    private SqliteStatement? _upsert;
    private SqliteStatement? _clear;

    public SqliteEdgeJournal(string databasePath) => _databasePath = databasePath;

    /// <summary>Journaled changes that make a commit fold the journal into the table. At least 1.</summary>
    public int FoldThreshold { get; set; } = DefaultFoldThreshold;

    /// <summary>Edge changes the journal holds, as committed.</summary>
    public int Journaled => _journal.Count;

    /// <summary>Reads the journal from <paramref name="connection"/>, just opened, and prepares the commands.</summary>
    public void Attach(SqliteConnection connection)
    {
        _journal.Clear();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT seq, edges FROM tool_dependency_journal ORDER BY seq";
            using var reader = command.ExecuteReader();
            Dictionary<string, string> ids = new(StringComparer.Ordinal);
            while (reader.Read())
            {
                if (!TryDecode(reader.GetFieldValue<byte[]>(1), _journal, ids))
                {
                    throw new ToolGraphStoreException(
                        _databasePath,
                        string.Create(CultureInfo.InvariantCulture, $"The tool graph store '{_databasePath}' has an edge journal row that cannot be read (seq {reader.GetInt64(0)})."),
                        null);
                }
            }
        }

        _append = new SqliteStatement(connection, "INSERT INTO tool_dependency_journal (edges) VALUES (?1)");
        _upsert = new SqliteStatement(connection, """
            INSERT INTO tool_dependency (from_tool_id, to_tool_id, observed_count, confidence_score) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (from_tool_id, to_tool_id) DO UPDATE SET observed_count = excluded.observed_count, confidence_score = excluded.confidence_score
            """);
        _clear = new SqliteStatement(connection, "DELETE FROM tool_dependency_journal");
        Begin();
    }

    /// <summary>Drops the commands of a connection being closed.</summary>
    public void Detach()
    {
        _append?.Dispose();
        _append = null;
        _upsert?.Dispose();
        _upsert = null;
        _clear?.Dispose();
        _clear = null;
    }

    /// <summary>Starts a transaction's writes: what an earlier one staged and did not commit is dropped.</summary>
    public void Begin()
    {
        _staged.Clear();
        _stagedFold = false;
        _stagedJournaled = _journal.Count;
    }

    /// <summary>Journals <paramref name="edges"/> in the store's transaction, or folds the journal with them into the table. Staged until <see cref="Commit"/>.</summary>
    public void Write(IReadOnlyList<ToolGraphEdge> edges)
    {
        if (edges.Count == 0)
        {
            return;
        }

        if ((long)_stagedJournaled + edges.Count > FoldThreshold)
        {
            Fold(edges);
            return;
        }

        // The reused buffer's packed part; SQLite copies it (SQLITE_TRANSIENT).
        var length = Encode(edges);
        _append!.BindBlob(1, _buffer.AsSpan(0, length));
        _append.Execute();
        _staged.Add(edges);
        _stagedJournaled += edges.Count;
    }

    /// <summary>
    /// Folds the whole committed journal into the table in the store's transaction (staged until
    /// <see cref="Commit"/>); nothing when it is empty. The store does this when it closes, so a
    /// file at rest holds every edge in <c>tool_dependency</c>, readable with plain SQL.
    /// </summary>
    public void FoldAll()
    {
        if (_journal.Count > 0 || _staged.Count > 0)
        {
            Fold([]);
        }
    }

    /// <summary>Applies what the committed transaction staged.</summary>
    public void Commit()
    {
        if (_stagedFold)
        {
            _journal.Clear();
        }

        foreach (var edges in _staged)
        {
            _journal.AddRange(edges);
        }

        Begin();
    }

    /// <summary>
    /// Applies the committed journal to <paramref name="edges"/>, the table's rows in rowid order:
    /// an edge in both takes the journal's state in place, one only in the journal comes after, in
    /// the order first changed.
    /// </summary>
    public void ApplyTo(List<ToolGraphEdge> edges)
    {
        if (_journal.Count == 0)
        {
            return;
        }

        Dictionary<(string, string), int> index = new(edges.Count);
        for (var i = 0; i < edges.Count; i++)
        {
            index[(edges[i].FromToolId, edges[i].ToToolId)] = i;
        }

        Merge(edges, index, _journal);
    }

    private void Fold(IReadOnlyList<ToolGraphEdge> edges)
    {
        // Each edge once, at its latest state, in the order first changed: the committed journal
        // (unless this transaction folded it already), this transaction's changes, then these.
        List<ToolGraphEdge> latest = [];
        Dictionary<(string, string), int> index = [];
        if (!_stagedFold)
        {
            Merge(latest, index, _journal);
        }

        foreach (var staged in _staged)
        {
            Merge(latest, index, staged);
        }

        Merge(latest, index, edges);
        var upsert = _upsert!;
        foreach (var edge in latest)
        {
            upsert.Bind(1, edge.FromToolId);
            upsert.Bind(2, edge.ToToolId);
            upsert.Bind(3, edge.ObservedCount);
            upsert.Bind(4, edge.ConfidenceScore);
            upsert.Execute();
        }

        _clear!.Execute();
        _stagedFold = true;
        _staged.Clear();
        _stagedJournaled = 0;
    }

    private static void Merge(List<ToolGraphEdge> into, Dictionary<(string, string), int> index, IReadOnlyList<ToolGraphEdge> edges)
    {
        foreach (var edge in edges)
        {
            var key = (edge.FromToolId, edge.ToToolId);
            if (index.TryGetValue(key, out var at))
            {
                into[at] = edge;
            }
            else
            {
                index.Add(key, into.Count);
                into.Add(edge);
            }
        }
    }

    /// <summary>
    /// Packs <paramref name="edges"/> into <see cref="_buffer"/> and returns the length. Format 1: a
    /// byte 1; the tool ids the edges name, each once (a varint count, then each a varint UTF-8 length
    /// and the bytes); then per edge the indexes of its from and to tools in that list (varints), its
    /// observed count (zigzag varint) and its confidence (IEEE double, little-endian). Varints are
    /// unsigned LEB128 (7 bits a byte, low first).
    /// </summary>
    /// <remarks>
    /// Each id once: a POST's 35 edges name about 20 tools, and ids in full made the row 1.9 KB
    /// instead of 0.8, two rows to a page instead of five.
    /// </remarks>
    private int Encode(IReadOnlyList<ToolGraphEdge> edges)
    {
        // The engine's edges share its tools' id strings: indexed by reference, which costs no
        // hashing of the text; two equal ids in distinct strings are only listed twice.
        _tools.Clear();
        _toolIndex.Clear();
        var needed = 1 + 5;
        foreach (var edge in edges)
        {
            needed += Index(edge.FromToolId) + Index(edge.ToToolId) + 5 + 5 + 5 + 8;
        }

        if (_buffer.Length < needed)
        {
            _buffer = new byte[Math.Max(needed, _buffer.Length * 2)];
        }

        var span = _buffer.AsSpan();
        span[0] = Format;
        var at = 1 + SqliteVarint.Write(span[1..], (uint)_tools.Count);
        foreach (var tool in _tools)
        {
            // The length first (at most 5 bytes), then the bytes, written after it and moved up.
            var length = Encoding.UTF8.GetBytes(tool, span[(at + 5)..]);
            var prefix = SqliteVarint.Write(span[at..], (uint)length);
            if (prefix != 5)
            {
                span.Slice(at + 5, length).CopyTo(span[(at + prefix)..]);
            }

            at += prefix + length;
        }

        foreach (var edge in edges)
        {
            at += SqliteVarint.Write(span[at..], (uint)_toolIndex[edge.FromToolId]);
            at += SqliteVarint.Write(span[at..], (uint)_toolIndex[edge.ToToolId]);
            at += SqliteVarint.Write(span[at..], (uint)((edge.ObservedCount << 1) ^ (edge.ObservedCount >> 31)));
            BinaryPrimitives.WriteDoubleLittleEndian(span[at..], edge.ConfidenceScore);
            at += 8;
        }

        return at;

        // The bytes a new tool adds to the row (0 for one already listed).
        int Index(string id)
        {
            if (_toolIndex.ContainsKey(id))
            {
                return 0;
            }

            _toolIndex.Add(id, _tools.Count);
            _tools.Add(id);
            return 5 + Encoding.UTF8.GetMaxByteCount(id.Length);
        }
    }

    /// <summary>Unpacks a row into <paramref name="edges"/>; <paramref name="ids"/> shares one string per tool id among the rows.</summary>
    private static bool TryDecode(ReadOnlySpan<byte> data, List<ToolGraphEdge> edges, Dictionary<string, string> ids)
    {
        if (data.IsEmpty || data[0] != Format)
        {
            return false;
        }

        var at = 1;
        if (!SqliteVarint.TryReadInt(data, ref at, out var toolCount) || toolCount > data.Length)
        {
            return false;
        }

        var tools = new string[toolCount];
        for (var i = 0; i < tools.Length; i++)
        {
            if (!SqliteVarint.TryReadInt(data, ref at, out var length) || data.Length - at < length)
            {
                return false;
            }

            var id = Encoding.UTF8.GetString(data.Slice(at, length));
            tools[i] = ids.TryAdd(id, id) ? id : ids[id];
            at += length;
        }

        while (at < data.Length)
        {
            if (!SqliteVarint.TryReadInt(data, ref at, out var from) || !SqliteVarint.TryReadInt(data, ref at, out var to) || !SqliteVarint.TryReadInt(data, ref at, out var count)
                || from >= tools.Length || to >= tools.Length || data.Length - at < 8)
            {
                return false;
            }

            var observed = (int)((uint)count >> 1) ^ -(count & 1);
            edges.Add(new ToolGraphEdge(tools[from], tools[to], BinaryPrimitives.ReadDoubleLittleEndian(data[at..]), observed));
            at += 8;
        }

        return true;
    }

}
