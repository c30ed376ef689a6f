namespace Pml.GraphEvents;

/// <summary>
/// The data JSON of the four event types a learned execution publishes, written straight to the
/// <see cref="Utf8JsonWriter"/>: the same bytes as their source-generated metadata writes (same
/// names, order, escaping and number format; <c>BuiltInEventWritersTests</c> compares the two),
/// without the serializer's per-property metadata walk, which was most of an event's encoding
/// cost in issue 16's profile. The other types (a few per connection) keep the metadata path.
/// </summary>
/// <remarks>
/// Strings and numbers go through the writer's own <c>WriteStringValue</c>/<c>WriteNumberValue</c>,
/// which is what the serializer's converters call: escaping follows the writer's encoder, doubles
/// are written shortest round-trip, exactly as before.
/// </remarks>
internal static class BuiltInEventWriters
{
    private static readonly JsonEncodedText FromToolId = JsonEncodedText.Encode("from_tool_id");
    private static readonly JsonEncodedText ToToolId = JsonEncodedText.Encode("to_tool_id");
    private static readonly JsonEncodedText ConfidenceScore = JsonEncodedText.Encode("confidence_score");
    private static readonly JsonEncodedText OldConfidence = JsonEncodedText.Encode("old_confidence");
    private static readonly JsonEncodedText NewConfidence = JsonEncodedText.Encode("new_confidence");
    private static readonly JsonEncodedText ObservedCount = JsonEncodedText.Encode("observed_count");
    private static readonly JsonEncodedText WorkflowId = JsonEncodedText.Encode("workflow_id");
    private static readonly JsonEncodedText ToolIds = JsonEncodedText.Encode("tool_ids");
    private static readonly JsonEncodedText Success = JsonEncodedText.Encode("success");
    private static readonly JsonEncodedText ExecutionTimeMs = JsonEncodedText.Encode("execution_time_ms");
    private static readonly JsonEncodedText EdgeCount = JsonEncodedText.Encode("edge_count");
    private static readonly JsonEncodedText NodeCount = JsonEncodedText.Encode("node_count");
    private static readonly JsonEncodedText Density = JsonEncodedText.Encode("density");
    private static readonly JsonEncodedText PageRankTop10 = JsonEncodedText.Encode("pagerank_top_10");
    private static readonly JsonEncodedText ToolId = JsonEncodedText.Encode("tool_id");
    private static readonly JsonEncodedText Score = JsonEncodedText.Encode("score");
    private static readonly JsonEncodedText CommunitiesCount = JsonEncodedText.Encode("communities_count");
    private static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("timestamp");

    public static void EdgeCreated(Utf8JsonWriter writer, EdgeCreatedEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString(FromToolId, e.FromToolId);
        writer.WriteString(ToToolId, e.ToToolId);
        writer.WriteNumber(ConfidenceScore, e.ConfidenceScore);
        WriteTimestamp(writer, e.Timestamp);
        writer.WriteEndObject();
    }

    public static void EdgeUpdated(Utf8JsonWriter writer, EdgeUpdatedEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString(FromToolId, e.FromToolId);
        writer.WriteString(ToToolId, e.ToToolId);
        writer.WriteNumber(OldConfidence, e.OldConfidence);
        writer.WriteNumber(NewConfidence, e.NewConfidence);
        writer.WriteNumber(ObservedCount, e.ObservedCount);
        WriteTimestamp(writer, e.Timestamp);
        writer.WriteEndObject();
    }

    public static void WorkflowExecuted(Utf8JsonWriter writer, WorkflowExecutedEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString(WorkflowId, e.WorkflowId);
        writer.WritePropertyName(ToolIds);
        if (e.ToolIds is { } toolIds)
        {
            // Enumerated, as the serializer enumerates it: a host's list is read the same way as before.
            writer.WriteStartArray();
            foreach (var toolId in toolIds)
            {
                writer.WriteStringValue(toolId);
            }

            writer.WriteEndArray();
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteBoolean(Success, e.Success);
        writer.WriteNumber(ExecutionTimeMs, e.ExecutionTimeMs);
        WriteTimestamp(writer, e.Timestamp);
        writer.WriteEndObject();
    }

    public static void MetricsUpdated(Utf8JsonWriter writer, MetricsUpdatedEvent e)
    {
        writer.WriteStartObject();
        writer.WriteNumber(EdgeCount, e.EdgeCount);
        writer.WriteNumber(NodeCount, e.NodeCount);
        writer.WriteNumber(Density, e.Density);
        writer.WritePropertyName(PageRankTop10);
        if (e.PageRankTop10 is { } top)
        {
            writer.WriteStartArray();
            foreach (var item in top)
            {
                if (item is { } score)
                {
                    writer.WriteStartObject();
                    writer.WriteString(ToolId, score.ToolId);
                    writer.WriteNumber(Score, score.Score);
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteNullValue();
                }
            }

            writer.WriteEndArray();
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteNumber(CommunitiesCount, e.CommunitiesCount);
        WriteTimestamp(writer, e.Timestamp);
        writer.WriteEndObject();
    }

    private static void WriteTimestamp(Utf8JsonWriter writer, DateTimeOffset timestamp)
    {
        Span<byte> utf8 = stackalloc byte[GraphEventTimestampJsonConverter.Length];
        GraphEventTimestampJsonConverter.Format(utf8, timestamp);
        writer.WriteString(Timestamp, utf8);
    }
}
