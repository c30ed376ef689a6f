using StackExchange.Redis;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// The fields of an event stream entry: <c>t</c> the event type, <c>d</c> its data JSON; <c>p</c> and
/// <c>s</c> the producer and its sequence (an event published through the backplane); <c>b</c> the
/// head a learned unit follows (the first event of a unit the learner appended), <c>u</c> the same
/// head on the unit's other events. <c>c</c>, the context of the span that appended a unit (on its first
/// event, only while the learner was traced), is read apart, by <see cref="RedisClusterTracing.TryReadContext"/>.
/// </summary>
internal readonly record struct RedisEventEntry(string? Type, byte[]? Data, string? Producer, RedisValue Sequence, string? UnitBase, string? UnitOf)
{
    public static RedisEventEntry Read(StreamEntry entry)
    {
        string? type = null;
        byte[]? data = null;
        string? producer = null;
        string? unitBase = null;
        string? unitOf = null;
        RedisValue sequence = RedisValue.Null;
        foreach (var field in entry.Values)
        {
            switch ((string?)field.Name)
            {
                case "t":
                    type = field.Value;
                    break;
                case "d":
                    data = field.Value;
                    break;
                case "p":
                    producer = field.Value;
                    break;
                case "s":
                    sequence = field.Value;
                    break;
                case "b":
                    unitBase = field.Value;
                    break;
                case "u":
                    unitOf = field.Value;
                    break;
            }
        }

        return new RedisEventEntry(type, data, producer, sequence, unitBase, unitOf);
    }
}
