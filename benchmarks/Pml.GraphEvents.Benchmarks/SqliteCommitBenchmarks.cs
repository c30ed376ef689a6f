using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// One committed <c>POST /executions</c> of 10 executions on the durable log, as the broadcaster's
/// pump commits it: 45 events (10 <c>workflow_executed</c>, 34 edge events, one
/// <c>metrics_updated</c>, about 8.5 KB of data), 35 edge changes and 10 learned execution ids, in one
/// SQLite transaction (<c>IGraphEventLog.Append</c>). The file is at its steady state before the
/// first measured commit: 49 tools and 2,254 edges (the sample catalog after a few thousand
/// executions), the log at its retention (100,000 events) and the duplicate window full (100,000
/// ids), so every commit also trims the oldest events and ids, as a long-running server does.
/// </summary>
/// <remarks>
/// Execution ids are random GUIDs, as clients make them: their places in any index on the id are
/// random. Wall time of a commit is its CPU time but for the fsyncs of SQLite's checkpoints
/// (<c>synchronous = NORMAL</c>), which fall on one commit in a few dozen.
/// </remarks>
[MemoryDiagnoser]
public class SqliteCommitBenchmarks
{
    private string _directory = null!;
    private SqliteToolGraphStore _store = null!;
    private IGraphEventLog _log = null!;
    private SqliteCommitWorkload _workload = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "pml-sqlite-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _store = new SqliteToolGraphStore(Path.Combine(_directory, "graph.db"));
        _log = _store;
        _workload = new SqliteCommitWorkload(seed: 42);
        _workload.Fill(_log);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>One POST's commit: 45 events, 35 edges, 10 learned ids, and the retention they cause.</summary>
    [Benchmark]
    public long Commit()
    {
        var (records, changes) = _workload.Next(_log.State.LastOffset);
        return _log.Append(records, [changes]).LastOffset;
    }
}

/// <summary>
/// The commits of <see cref="SqliteCommitBenchmarks"/>: made ahead (a ring of 256), so that a
/// measured commit pays for SQLite only, and filled in to the steady state by <see cref="Fill"/>.
/// </summary>
internal sealed class SqliteCommitWorkload
{
    /// <summary>Events per commit: 10 executions, 34 edge events, one metrics update.</summary>
    public const int EventsPerCommit = 45;

    /// <summary>Edge changes per commit.</summary>
    public const int EdgesPerCommit = 35;

    /// <summary>Learned execution ids per commit (one POST of 10).</summary>
    public const int LearnedPerCommit = 10;

    private const int Ring = 256;
    private const int Tools = 49;
    private const int Edges = 2_254;
    private const int Window = 100_000;

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string[] _tools;
    private readonly (int From, int To)[] _edges;
    private readonly int[] _counts;
    private readonly EventLogRecord[][] _records = new EventLogRecord[Ring][];
    private readonly ToolGraphChanges[] _changes = new ToolGraphChanges[Ring];
    private readonly Random _random;
    private long _learnedAt;
    private int _next;

    public SqliteCommitWorkload(int seed)
    {
        _random = new Random(seed);
        _tools = [.. Enumerable.Range(0, Tools).Select(i => string.Create(CultureInfo.InvariantCulture, $"server{i % 9}:tool_name_{i:D2}"))];
        HashSet<(int, int)> seen = [];
        List<(int, int)> edges = [];
        while (edges.Count < Edges)
        {
            var (from, to) = (_random.Next(Tools), _random.Next(Tools));
            if (from != to && seen.Add((from, to)))
            {
                edges.Add((from, to));
            }
        }

        _edges = [.. edges];
        _counts = [.. Enumerable.Repeat(1, Edges)];
        _learnedAt = Start.ToUnixTimeMilliseconds();
        for (var i = 0; i < Ring; i++)
        {
            _records[i] = new EventLogRecord[EventsPerCommit];
            for (var e = 0; e < EventsPerCommit; e++)
            {
                var (type, size) = e switch
                {
                    < 10 => ("workflow_executed", 185),
                    < 44 => ("edge_updated", 185),
                    _ => ("metrics_updated", 755),
                };
                _records[i][e] = new EventLogRecord(0, type, Data(i, e, size));
            }

            _changes[i] = MakeChanges();
        }
    }

    /// <summary>
    /// Brings a new file to the steady state: the graph, the duplicate window full and the log at its
    /// default retention, in commits of a thousand events.
    /// </summary>
    public void Fill(IGraphEventLog log)
    {
        log.Open();
        var graph = new ToolGraphChanges(null, [.. _tools.Select(t => new ToolNode(t))], [.. Enumerable.Range(0, Edges).Select(Edge)]);
        log.Append([], [graph]);
        var filler = Data(0, 0, 190);
        for (var filled = 0; filled < Window; filled += 1_000)
        {
            var first = log.State.LastOffset + 1;
            EventLogRecord[] records = [.. Enumerable.Range(0, 1_000).Select(i => new EventLogRecord(first + i, "edge_updated", filler))];
            var learned = new ToolGraphChanges("fill", [], [])
            {
                LearnedExecutions = [.. Enumerable.Range(0, 1_000).Select(_ => new LearnedExecution(Guid.NewGuid().ToString(), DateTimeOffset.FromUnixTimeMilliseconds(_learnedAt++)))],
                DuplicateWindowCount = Window,
                DuplicateWindowAge = TimeSpan.FromDays(365),
            };
            log.Append(records, [learned]);
        }
    }

    /// <summary>The next commit's records, numbered from <paramref name="lastOffset"/> + 1, and its changes.</summary>
    public (EventLogRecord[] Records, ToolGraphChanges Changes) Next(long lastOffset)
    {
        var slot = _next++ % Ring;
        var records = _records[slot];
        for (var e = 0; e < records.Length; e++)
        {
            records[e] = records[e] with { Offset = lastOffset + 1 + e };
        }

        // Fresh ids each time round the ring: an id stored twice would be a duplicate, not a new one.
        var changes = _changes[slot];
        if (_next > Ring)
        {
            changes = _changes[slot] = MakeChanges();
        }

        return (records, changes);
    }

    private ToolGraphChanges MakeChanges()
    {
        var edges = new ToolGraphEdge[EdgesPerCommit];
        for (var i = 0; i < edges.Length; i++)
        {
            var e = _random.Next(Edges);
            _counts[e]++;
            edges[i] = Edge(e);
        }

        var learned = new LearnedExecution[LearnedPerCommit];
        for (var i = 0; i < learned.Length; i++)
        {
            learned[i] = new LearnedExecution(Guid.NewGuid().ToString(), DateTimeOffset.FromUnixTimeMilliseconds(_learnedAt));
        }

        _learnedAt += 10;
        return new ToolGraphChanges(learned[0].ExecutionId, [], edges)
        {
            LearnedExecutions = learned,
            DuplicateWindowCount = Window,
            DuplicateWindowAge = TimeSpan.FromDays(365),
        };
    }

    private ToolGraphEdge Edge(int e) =>
        new(_tools[_edges[e].From], _tools[_edges[e].To], 1 - (0.5 / _counts[e]), _counts[e]);

    /// <summary>A JSON data line of <paramref name="size"/> bytes, different per commit and event.</summary>
    private static byte[] Data(int commit, int e, int size)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"commit\":{commit},\"event\":{e},\"pad\":\"");
        return Encoding.UTF8.GetBytes(head + new string((char)('a' + ((commit + e) % 26)), size - head.Length - 2) + "\"}");
    }
}
