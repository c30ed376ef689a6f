using System.Text;
using System.Text.Json;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Sse;

/// <summary>The wire JSON read back into typed events, as the .NET client does.</summary>
public sealed class GraphEventJsonTests
{
    public static TheoryData<string> EventTypes => [.. GraphEventTypes.All];

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void Every_event_type_round_trips(string eventType)
    {
        var original = SampleEvents.All().Single(e => e.EventType == eventType);
        var json = GraphEventJson.Serialize(original);

        var parsed = GraphEventJson.Deserialize(eventType, Encoding.UTF8.GetBytes(json));

        Assert.NotNull(parsed);
        Assert.IsType(original.GetType(), parsed);
        Assert.Equal(eventType, parsed.EventType);
        Assert.Equal(original.Timestamp, parsed.Timestamp);
        Assert.Equal(json, GraphEventJson.Serialize(parsed));
    }

    [Fact]
    public void The_data_line_of_an_encoded_frame_is_what_serialize_writes()
    {
        var e = new EdgeUpdatedEvent("a", "b", 0.5, 0.55, 2, SampleEvents.Timestamp);
        var frame = Encoding.UTF8.GetString(SseFrameEncoder.Encode(new EventIdPrefix(GraphEventId.NewEpoch()), 3, e));
        Assert.Contains($"data: {GraphEventJson.Serialize(e)}\n", frame, StringComparison.Ordinal);
    }

    [Fact]
    public void Fields_are_read_from_snake_case()
    {
        var parsed = GraphEventJson.Deserialize(
            GraphEventTypes.MetricsUpdated,
            """{"edge_count":3,"node_count":4,"density":0.25,"pagerank_top_10":[{"tool_id":"x","score":0.5}],"communities_count":2,"timestamp":"2025-12-01T10:00:00.000Z"}""");

        var metrics = Assert.IsType<MetricsUpdatedEvent>(parsed);
        Assert.Equal(3, metrics.EdgeCount);
        Assert.Equal(4, metrics.NodeCount);
        Assert.Equal(new ToolScore("x", 0.5), Assert.Single(metrics.PageRankTop10));
        Assert.Equal(new DateTimeOffset(2025, 12, 1, 10, 0, 0, TimeSpan.Zero), metrics.Timestamp);
    }

    [Fact]
    public void An_unknown_event_type_gives_null() =>
        Assert.Null(GraphEventJson.Deserialize("something_new", """{"x":1}"""));

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("""{"from_tool_id":"a","to_tool_id":"b","confidence_score":"high","timestamp":"2025-12-01T10:00:00.000Z"}""")]
    public void Malformed_data_throws_JsonException(string json) =>
        Assert.ThrowsAny<JsonException>(() => GraphEventJson.Deserialize(GraphEventTypes.EdgeCreated, json));
}
