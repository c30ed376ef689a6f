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
    public void Timestamps_are_written_as_javascripts_toISOString_writes_them()
    {
        // The converter writes the digits itself; the format string it replaced is the reference,
        // over the whole range of years, offsets that cross a day, and every millisecond edge.
        var random = new Random(16);
        DateTimeOffset[] edges =
        [
            DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.UnixEpoch,
            new(2025, 12, 31, 23, 59, 59, 999, TimeSpan.Zero), new(2026, 1, 1, 0, 30, 0, 1, TimeSpan.FromHours(5.5)),
            new DateTimeOffset(2026, 12, 3, 13, 0, 0, TimeSpan.Zero).AddTicks(9_999),
        ];
        var values = edges.Concat(Enumerable.Range(0, 2_000).Select(_ => new DateTimeOffset(random.NextInt64(DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay), TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60 + 1)))));
        foreach (var value in values)
        {
            var json = GraphEventJson.Serialize(new EdgeCreatedEvent("a", "b", 0.5, value));
            var expected = value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains($"\"timestamp\":\"{expected}\"", json, StringComparison.Ordinal);
        }
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
