using System.Buffers;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// Writes a <see cref="ToolGraphChanges"/> into the caller's transaction: tools, edges, learned
/// executions and the trimming of the duplicate window. The one place of this SQL, for
/// <see cref="SqliteToolGraphStore.SaveChangesAsync"/> and the event log's append, which both run
/// it under the store's gate on the store's connection.
/// </summary>
/// <remarks>
/// Its statements are prepared once per connection (<see cref="Attach"/>): every learned execution
/// writes through here, on the broadcaster's pump when the engine's changes ride with their events,
/// and preparing five statements on every write measured about a third of such an append.
/// </remarks>
internal sealed class SqliteGraphChangeWriter
{
    private SqliteCommand? _tool;
    private SqliteParameter? _toolId;
    private SqliteParameter? _toolName;
    private SqliteParameter? _toolServer;
    private SqliteParameter? _toolMetadata;
    private SqliteCommand? _edge;
    private SqliteParameter? _edgeFrom;
    private SqliteParameter? _edgeTo;
    private SqliteParameter? _edgeCount;
    private SqliteParameter? _edgeConfidence;
    private SqliteCommand? _learned;
    private SqliteParameter? _learnedId;
    private SqliteParameter? _learnedAt;
    private SqliteCommand? _forgetOlder;
    private SqliteParameter? _forgetOlderCutoff;
    private SqliteCommand? _forgetOldest;
    private SqliteParameter? _forgetOldestCount;

    /// <summary>Prepares the statements on <paramref name="connection"/>, just opened and checked.</summary>
    public void Attach(SqliteConnection connection)
    {
        _tool = Prepare(connection, """
            INSERT INTO tool (tool_id, name, server_id, metadata) VALUES ($id, $name, $server, $metadata)
            ON CONFLICT (tool_id) DO UPDATE SET name = excluded.name, server_id = excluded.server_id, metadata = excluded.metadata
            """);
        _toolId = _tool.Parameters.Add("$id", SqliteType.Text);
        _toolName = _tool.Parameters.Add("$name", SqliteType.Text);
        _toolServer = _tool.Parameters.Add("$server", SqliteType.Text);
        _toolMetadata = _tool.Parameters.Add("$metadata", SqliteType.Text);

        _edge = Prepare(connection, """
            INSERT INTO tool_dependency (from_tool_id, to_tool_id, observed_count, confidence_score) VALUES ($from, $to, $count, $confidence)
            ON CONFLICT (from_tool_id, to_tool_id) DO UPDATE SET observed_count = excluded.observed_count, confidence_score = excluded.confidence_score
            """);
        _edgeFrom = _edge.Parameters.Add("$from", SqliteType.Text);
        _edgeTo = _edge.Parameters.Add("$to", SqliteType.Text);
        _edgeCount = _edge.Parameters.Add("$count", SqliteType.Integer);
        _edgeConfidence = _edge.Parameters.Add("$confidence", SqliteType.Real);

        // OR IGNORE: an id already remembered keeps its first time (the engine does not send a
        // duplicate, but a retried write must not fail on one).
        _learned = Prepare(connection, "INSERT OR IGNORE INTO learned_execution (execution_id, learned_at) VALUES ($id, $at)");
        _learnedId = _learned.Parameters.Add("$id", SqliteType.Text);
        _learnedAt = _learned.Parameters.Add("$at", SqliteType.Integer);

        // Both trims walk the learned_at index from its oldest end: they cost what they remove.
        _forgetOlder = Prepare(connection, "DELETE FROM learned_execution WHERE learned_at < $cutoff");
        _forgetOlderCutoff = _forgetOlder.Parameters.Add("$cutoff", SqliteType.Integer);
        _forgetOldest = Prepare(connection, "DELETE FROM learned_execution WHERE rowid IN (SELECT rowid FROM learned_execution ORDER BY learned_at, rowid LIMIT $count)");
        _forgetOldestCount = _forgetOldest.Parameters.Add("$count", SqliteType.Integer);

        foreach (var command in new[] { _tool, _edge, _learned, _forgetOlder, _forgetOldest })
        {
            command.Prepare();
        }
    }

    /// <summary>Drops the statements of a connection being closed.</summary>
    public void Detach()
    {
        _tool?.Dispose();
        _tool = null;
        _edge?.Dispose();
        _edge = null;
        _learned?.Dispose();
        _learned = null;
        _forgetOlder?.Dispose();
        _forgetOlder = null;
        _forgetOldest?.Dispose();
        _forgetOldest = null;
    }

    /// <summary>Writes <paramref name="changes"/> in <paramref name="transaction"/>, which the caller commits.</summary>
    /// <param name="transaction">The caller's transaction on the attached connection.</param>
    /// <param name="changes">What to write.</param>
    /// <param name="learnedCount">Rows of <c>learned_execution</c> before these changes.</param>
    /// <returns>Rows of <c>learned_execution</c> after them, for the caller to keep once committed.</returns>
    public long Write(SqliteTransaction transaction, ToolGraphChanges changes, long learnedCount)
    {
        if (changes.Tools.Count > 0)
        {
            var command = _tool!;
            command.Transaction = transaction;
            foreach (var tool in changes.Tools)
            {
                _toolId!.Value = tool.Id;
                _toolName!.Value = (object?)tool.Name ?? DBNull.Value;
                _toolServer!.Value = (object?)tool.ServerId ?? DBNull.Value;
                _toolMetadata!.Value = tool.Metadata is null ? DBNull.Value : WriteMetadata(tool.Metadata);
                command.ExecuteNonQuery();
            }
        }

        if (changes.Edges.Count > 0)
        {
            var command = _edge!;
            command.Transaction = transaction;
            foreach (var edge in changes.Edges)
            {
                _edgeFrom!.Value = edge.FromToolId;
                _edgeTo!.Value = edge.ToToolId;
                _edgeCount!.Value = edge.ObservedCount;
                _edgeConfidence!.Value = edge.ConfidenceScore;
                command.ExecuteNonQuery();
            }
        }

        return changes.LearnedExecutions.Count > 0 ? WriteLearned(transaction, changes, learnedCount) : learnedCount;
    }

    private long WriteLearned(SqliteTransaction transaction, ToolGraphChanges changes, long learnedCount)
    {
        var newest = long.MinValue;
        var insert = _learned!;
        insert.Transaction = transaction;
        foreach (var execution in changes.LearnedExecutions)
        {
            // Stored as UTC milliseconds since 1970-01-01: sortable, and what LoadAsync gives back.
            var milliseconds = execution.LearnedAt.ToUnixTimeMilliseconds();
            newest = Math.Max(newest, milliseconds);
            _learnedId!.Value = execution.ExecutionId;
            _learnedAt!.Value = milliseconds;
            learnedCount += insert.ExecuteNonQuery();
        }

        // By age: learned longer than the window before the newest learned now (not the clock's now,
        // so a store written with another clock, or a test's, trims the same way).
        if (changes.DuplicateWindowAge > TimeSpan.Zero)
        {
            _forgetOlder!.Transaction = transaction;
            _forgetOlderCutoff!.Value = newest - (long)Math.Min(changes.DuplicateWindowAge.TotalMilliseconds, long.MaxValue / 2);
            learnedCount -= _forgetOlder.ExecuteNonQuery();
        }

        // By count: the oldest beyond the window.
        var excess = learnedCount - Math.Max(changes.DuplicateWindowCount, 0);
        if (excess > 0)
        {
            _forgetOldest!.Transaction = transaction;
            _forgetOldestCount!.Value = excess;
            learnedCount -= _forgetOldest.ExecuteNonQuery();
        }

        return learnedCount;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
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
}
