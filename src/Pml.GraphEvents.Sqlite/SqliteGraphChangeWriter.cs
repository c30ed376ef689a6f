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
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its statements belong to the store's connection: Detach finalizes them when the store closes it, and Attach prepares them again on the next.")]
internal sealed class SqliteGraphChangeWriter
{
    private readonly SqliteEdgeJournal _edges;
    private readonly SqliteLearnedExecutions _learned;
    private SqliteStatement? _tool;

    public SqliteGraphChangeWriter(string databasePath)
    {
        _edges = new SqliteEdgeJournal(databasePath);
        _learned = new SqliteLearnedExecutions(databasePath);
    }

    /// <summary>The edges' journal: its fold threshold (for tests) and what a load applies.</summary>
    public SqliteEdgeJournal Edges => _edges;

    /// <summary>The duplicate window: what a load returns.</summary>
    public SqliteLearnedExecutions Learned => _learned;

    /// <summary>Loads the journal and the window's times from <paramref name="connection"/>, just opened and checked, and prepares the statements.</summary>
    public void Attach(SqliteConnection connection)
    {
        _tool = new SqliteStatement(connection, """
            INSERT INTO tool (tool_id, name, server_id, metadata) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (tool_id) DO UPDATE SET name = excluded.name, server_id = excluded.server_id, metadata = excluded.metadata
            """);
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

    /// <summary>Writes <paramref name="changes"/> in the store's transaction, which the caller commits, then calls <see cref="Commit"/>.</summary>
    public void Write(ToolGraphChanges changes)
    {
        foreach (var tool in changes.Tools)
        {
            var command = _tool!;
            command.Bind(1, tool.Id);
            command.Bind(2, tool.Name);
            command.Bind(3, tool.ServerId);
            command.Bind(4, tool.Metadata is null ? null : WriteMetadata(tool.Metadata));
            command.Execute();
        }

        _edges.Write(changes.Edges);
        _learned.Write(changes);
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
