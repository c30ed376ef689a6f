using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Pml.GraphEvents.Tests.Sse;

/// <summary>
/// Random payloads, hostile ones included, encoded by us and parsed by the framework's own
/// <see cref="SseParser"/>: each frame must come back as exactly one event of the right type, id
/// and JSON, whatever the strings hold.
/// </summary>
public sealed class FrameRoundTripTests
{
    private static readonly string[] Hostile =
    [
        "",
        "\n",
        "\r\n\r\n",
        "a\rb",
        "event: x\ndata: injected\n\n",
        "id: 999\n",
        "\"quoted\" and \\backslashed\\",
        ": comment",
        "日本語のツール",
        "emoji 🚀 astral",
        "\u2028line separator\u2029",
        "nul\0inside",
        "tab\tand\u0001control",
        new string('x', 100_000),
    ];

    [Fact]
    public async Task Random_payloads_round_trip_through_SseParser()
    {
        var random = new Random(20251201);
        var ids = new EventIdPrefix(GraphEventId.NewEpoch());
        var events = new List<(long Id, GraphEvent Event)>();
        for (var i = 0; i < 500; i++)
        {
            // Mostly consecutive offsets, and some of any length up to 19 digits.
            events.Add((random.Next(4) == 0 ? random.NextInt64(1, long.MaxValue) : i + 1, RandomEvent(random)));
        }

        events.Add((long.MaxValue, RandomEvent(random)));
        using var stream = new MemoryStream();
        foreach (var (id, e) in events)
        {
            stream.Write(SseFrameEncoder.Encode(ids, id, e));
        }

        stream.Position = 0;
        var parsed = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(TestContext.Current.CancellationToken))
        {
            parsed.Add(item);
        }

        Assert.Equal(events.Count, parsed.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var (id, expected) = events[i];
            var item = parsed[i];
            Assert.Equal(expected.EventType, item.EventType);
            Assert.Equal($"{ids.Epoch}-{id.ToString(System.Globalization.CultureInfo.InvariantCulture)}", item.EventId);
            Assert.True(GraphEventId.TryParse(item.EventId, out var epoch, out var offset));
            Assert.Equal((ids.Epoch, id), (epoch, offset));
            Assert.DoesNotContain('\n', item.Data);
            Assert.Equal(Json(expected), item.Data);
            AssertSameValues(expected, item.Data);
        }
    }

    private static GraphEvent RandomEvent(Random random)
    {
        var at = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMilliseconds(random.NextInt64(0, 10_000_000_000));
        return random.Next(5) switch
        {
            0 => new EdgeCreatedEvent(RandomText(random), RandomText(random), random.NextDouble(), at),
            1 => new EdgeUpdatedEvent(RandomText(random), RandomText(random), random.NextDouble(), random.NextDouble(), random.Next(1, 1000), at),
            2 => new WorkflowExecutedEvent(RandomText(random), [.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => RandomText(random))], random.Next(2) == 0, random.Next(0, 100_000), at),
            3 => new MetricsUpdatedEvent(random.Next(), random.Next(), random.NextDouble(), [.. Enumerable.Range(0, random.Next(0, 11)).Select(_ => new ToolScore(RandomText(random), random.NextDouble()))], random.Next(100), at),
            _ => new GraphSyncedEvent(random.Next(), random.Next(), random.NextDouble() * 1000, at),
        };
    }

    private static string RandomText(Random random)
    {
        if (random.Next(3) == 0)
        {
            return Hostile[random.Next(Hostile.Length)];
        }

        var builder = new StringBuilder();
        var length = random.Next(0, 40);
        for (var i = 0; i < length; i++)
        {
            // Any BMP character that is not a lone surrogate, plus the odd astral pair.
            var c = (char)random.Next(0, 0xD800);
            builder.Append(c);
            if (random.Next(20) == 0)
            {
                builder.Append("\U0001F600");
            }
        }

        return builder.ToString();
    }

    private static string Json(GraphEvent e)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            BuiltInEventContracts.Of(e).WriteData(writer, e);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void AssertSameValues(GraphEvent expected, string data)
    {
        switch (expected)
        {
            case EdgeCreatedEvent edge:
                var created = Deserialize(data, GraphEventJsonContext.Default.EdgeCreatedEvent);
                Assert.Equal(edge.FromToolId, created.FromToolId);
                Assert.Equal(edge.ToToolId, created.ToToolId);
                Assert.Equal(edge.ConfidenceScore, created.ConfidenceScore);
                Assert.Equal(edge.Timestamp, created.Timestamp);
                break;
            case EdgeUpdatedEvent edge:
                Assert.Equal(edge, Deserialize(data, GraphEventJsonContext.Default.EdgeUpdatedEvent));
                break;
            case WorkflowExecutedEvent workflow:
                var parsed = Deserialize(data, GraphEventJsonContext.Default.WorkflowExecutedEvent);
                Assert.Equal(workflow.WorkflowId, parsed.WorkflowId);
                Assert.Equal(workflow.ToolIds, parsed.ToolIds);
                Assert.Equal(workflow.Success, parsed.Success);
                break;
            case MetricsUpdatedEvent metrics:
                var m = Deserialize(data, GraphEventJsonContext.Default.MetricsUpdatedEvent);
                Assert.Equal(metrics.PageRankTop10, m.PageRankTop10);
                Assert.Equal(metrics.Density, m.Density);
                break;
            case GraphSyncedEvent synced:
                Assert.Equal(synced, Deserialize(data, GraphEventJsonContext.Default.GraphSyncedEvent));
                break;
            default:
                Assert.Fail($"Unexpected {expected.GetType()}");
                break;
        }
    }

    private static T Deserialize<T>(string data, JsonTypeInfo<T> typeInfo) => JsonSerializer.Deserialize(data, typeInfo)!;
}
