using System.Buffers;
using System.Text.Json;

namespace Pml.GraphEvents.Tests.Sse;

/// <summary>
/// The hand-written data JSON of the events an execution publishes is byte for byte what their
/// source-generated metadata writes, for awkward strings, numbers and nulls alike.
/// </summary>
public sealed class BuiltInEventWritersTests
{
    private static readonly string[] Strings =
    [
        string.Empty, "git:commit", "a\"b\\c", "line\nbreak\r\ttab", "\u0001\u001f", "</script><b>&'", "é ü ñ 中文", "🙂 emoji", "\u2028\u2029", new string('x', 300),
    ];

    private static readonly double[] Doubles =
    [
        0, -0.0, 0.5, 0.55, 0.1 + 0.2, 1.0 / 3, 42, 1e-300, double.Epsilon, 1e300, double.MaxValue, -123.456, 0.050251256281407036,
    ];

    [Fact]
    public void Every_hand_written_event_matches_its_metadata()
    {
        var random = new Random(16);
        var checkedEvents = 0;
        for (var i = 0; i < 4_000; i++)
        {
            var timestamp = new DateTimeOffset(random.NextInt64(DateTime.UnixEpoch.Ticks, DateTime.UnixEpoch.Ticks + (200L * 365 * TimeSpan.TicksPerDay)), TimeSpan.Zero);
            GraphEvent graphEvent = (i % 4) switch
            {
                0 => new EdgeCreatedEvent(Pick(random), Pick(random), PickDouble(random), timestamp),
                1 => new EdgeUpdatedEvent(Pick(random), Pick(random), PickDouble(random), PickDouble(random), random.Next(int.MinValue, int.MaxValue), timestamp),
                2 => new WorkflowExecutedEvent(Pick(random), random.Next(8) == 0 ? null! : [.. Enumerable.Range(0, random.Next(6)).Select(_ => Pick(random))], random.Next(2) == 0, PickDouble(random), timestamp),
                _ => new MetricsUpdatedEvent(
                    random.Next(), random.Next(), PickDouble(random),
                    random.Next(8) == 0 ? null! : [.. Enumerable.Range(0, random.Next(11)).Select(_ => random.Next(10) == 0 ? null! : new ToolScore(Pick(random), PickDouble(random)))],
                    random.Next(), timestamp),
            };

            var contract = BuiltInEventContracts.Of(graphEvent);
            foreach (var options in new[] { default, new JsonWriterOptions { SkipValidation = true } })
            {
                Assert.Equal(Write(options, w => contract.WriteData(w, graphEvent)), Write(options, w => contract.WriteDataThroughMetadata(w, graphEvent)));
            }

            checkedEvents++;
        }

        Assert.Equal(4_000, checkedEvents);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_number_JSON_cannot_carry_is_refused_as_before(double value)
    {
        var graphEvent = new EdgeCreatedEvent("a", "b", value, DateTimeOffset.UnixEpoch);
        var contract = BuiltInEventContracts.Of(graphEvent);
        var handWritten = Assert.ThrowsAny<ArgumentException>(() => Write(default, w => contract.WriteData(w, graphEvent)));
        var metadata = Assert.ThrowsAny<ArgumentException>(() => Write(default, w => contract.WriteDataThroughMetadata(w, graphEvent)));
        Assert.Equal(metadata.GetType(), handWritten.GetType());
    }

    private static string Pick(Random random) => Strings[random.Next(Strings.Length)];

    private static double PickDouble(Random random) => random.Next(3) == 0 ? random.NextDouble() * Math.Pow(10, random.Next(-20, 20)) : Doubles[random.Next(Doubles.Length)];

    private static byte[] Write(JsonWriterOptions options, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
