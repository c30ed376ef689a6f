using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The executions the probe posts, as server-cpu.py makes them: chains of 2 to 5 distinct tools of
/// the server's catalog, drawn from a seeded generator, as JSON arrays of <c>batch</c> executions.
/// Warm-up and measured executions come from two generators (seed and seed + 1,000,003), so every
/// run measures the very same executions after the very same warm-up. Measured executions are
/// called <c>e1</c>, <c>e2</c>, ... so a reader finds the POST of a <c>workflow_executed</c> frame
/// from its id; warm-up ones <c>w1</c>, <c>w2</c>, ...
/// </summary>
internal sealed class EndToEndWorkload(IReadOnlyList<string> tools, int seed)
{
    private readonly Random _warmUp = new(seed);
    private readonly Random _measured = new(seed + 1_000_003);
    private readonly int[] _order = [.. Enumerable.Range(0, tools.Count)];
    private int _warmUpCount;

    /// <summary>The next warm-up body of <paramref name="batch"/> executions.</summary>
    public byte[] NextWarmUpBody(int batch)
    {
        var ids = new string[batch];
        for (var i = 0; i < batch; i++)
        {
            ids[i] = "w" + (++_warmUpCount).ToString(CultureInfo.InvariantCulture);
        }

        return Body(_warmUp, ids);
    }

    /// <summary>
    /// The measured bodies: <paramref name="posts"/> POSTs of <paramref name="batch"/> executions;
    /// execution <c>eN</c> is in body <c>(N - 1) / batch</c>. Made before the run, so that the
    /// run spends nothing on them.
    /// </summary>
    public byte[][] MeasuredBodies(int posts, int batch)
    {
        var bodies = new byte[posts][];
        for (var p = 0; p < posts; p++)
        {
            var ids = new string[batch];
            for (var i = 0; i < batch; i++)
            {
                ids[i] = "e" + ((p * batch) + i + 1).ToString(CultureInfo.InvariantCulture);
            }

            bodies[p] = Body(_measured, ids);
        }

        return bodies;
    }

    private byte[] Body(Random random, string[] ids)
    {
        var buffer = new ArrayBufferWriter<byte>(256 * ids.Length);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var id in ids)
            {
                json.WriteStartObject();
                json.WriteString("execution_id", id);
                json.WriteStartArray("tool_ids");
                foreach (var tool in Chain(random))
                {
                    json.WriteStringValue(tool);
                }

                json.WriteEndArray();
                json.WriteBoolean("success", true);
                json.WriteNumber("execution_time_ms", 10);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    // Python's random.sample(tools, random.randint(2, 5)): distinct tools in random order (a partial
    // Fisher-Yates shuffle). Not the same draws as the script's generator, the same distribution.
    private string[] Chain(Random random)
    {
        var length = random.Next(2, 6);
        var chain = new string[length];
        for (var i = 0; i < length; i++)
        {
            var j = random.Next(i, _order.Length);
            (_order[i], _order[j]) = (_order[j], _order[i]);
            chain[i] = tools[_order[i]];
        }

        return chain;
    }
}
