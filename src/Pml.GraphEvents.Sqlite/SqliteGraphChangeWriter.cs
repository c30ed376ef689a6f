using System.Buffers;
using Microsoft.Data.Sqlite;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// Writes a <see cref="ToolGraphChanges"/> into the caller's transaction: tools (upserted), edges
/// (<see cref="SqliteEdgeJournal"/>) and learned executions with the trimming of the duplicate
/// window (<see cref="SqliteLearnedExecutions"/>). The one place of this SQL, for
/// <see cref="SqliteToolGraphStore.SaveChangesAsync"/> and the event log's append, which both run
/// it under the store's gate on the store's connection: <see cref="Begin"/>, then
/// <see cref="Write"/> for each change, then, once the transaction committed, <see cref="Commit"/>
/// (what was staged in memory for a transaction that did not commit is dropped by the next
/// <see cref="Begin"/>).
/// </summary>
/// <remarks>
/// Its statements are prepared once per connection (<see cref="Attach"/>): every learned execution
/// writes through here, on the broadcaster's pump when the engine's changes ride with their events,
/// and preparing five statements on every write measured about a third of such an append.
/// </remarks>
internal sealed class SqliteGraphChangeWriter
{
    private readonly SqliteEdgeJournal _edges;
    private readonly SqliteLearnedExecutions _learned;
    private SqliteCommand? _tool;
    private SqliteParameter? _toolId;
    private SqliteParameter? _toolName;
    private SqliteParameter? _toolServer;
    private SqliteParameter? _toolMetadata;

    public SqliteGraphChangeWriter(string databasePath)
    {
        _edges = new SqliteEdgeJournal(databasePath);
        _learned = new SqliteLearnedExecutions(databasePath);
    }

    /// <summary>The edges' journal: its fold threshold (for tests) and what a load applies.</summary>
    public SqliteEdgeJournal Edges => _edges;

    /// <summary>Loads the journal and the window's times from <paramref name="connection"/>, just opened and checked, and prepares the statements.</summary>
    public void Attach(SqliteConnection connection)
    {
        _tool = connection.CreateCommand();
        _tool.CommandText = """
            INSERT INTO tool (tool_id, name, server_id, metadata) VALUES ($id, $name, $server, $metadata)
            ON CONFLICT (tool_id) DO UPDATE SET name = excluded.name, server_id = excluded.server_id, metadata = excluded.metadata
            """;
        _toolId = _tool.Parameters.Add("$id", SqliteType.Text);
        _toolName = _tool.Parameters.Add("$name", SqliteType.Text);
        _toolServer = _tool.Parameters.Add("$server", SqliteType.Text);
        _toolMetadata = _tool.Parameters.Add("$metadata", SqliteType.Text);
        _tool.Prepare();
        _edges.Attach(connection);
        _learned.Attach(connection);
    }

    /// <summary>Drops the statements of a connection being closed.</summary>
    public void Detach()
    {
        _tool?.Dispose();
        _tool = null;
        _edges.Detach();
        _learned.Detach();
    }

    /// <summary>Starts a transaction's writes.</summary>
    public void Begin()
    {
        _edges.Begin();
        _learned.Begin();
    }

    /// <summary>Writes <paramref name="changes"/> in <paramref name="transaction"/>, which the caller commits, then calls <see cref="Commit"/>.</summary>
    public void Write(SqliteTransaction transaction, ToolGraphChanges changes)
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

        _edges.Write(transaction, changes.Edges);
        _learned.Write(transaction, changes);
    }

    /// <summary>Applies what the committed transaction's writes staged in memory.</summary>
    public void Commit()
    {
        _edges.Commit();
        _learned.Commit();
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
