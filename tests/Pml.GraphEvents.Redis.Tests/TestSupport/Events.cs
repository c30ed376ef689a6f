using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Pml.GraphEvents.Redis.Tests.TestSupport;

internal static class Events
{
    public static readonly DateTimeOffset Timestamp = new(2025, 12, 1, 10, 30, 0, 123, TimeSpan.Zero);

    /// <summary>An edge whose <c>from_tool_id</c> names it, so a test can tell events apart.</summary>
    public static EdgeCreatedEvent Edge(string name) => new(name, "tool:next", 0.5, Timestamp);

    public static string FromTool(SseItem<string> item)
    {
        using var json = JsonDocument.Parse(item.Data);
        return json.RootElement.GetProperty("from_tool_id").GetString()!;
    }

    /// <summary>The offset in the shared stream that the item's id carries (ids are <c>&lt;epoch&gt;-&lt;offset&gt;</c>).</summary>
    public static long Id(SseItem<string> item) => EventIds.Offset(item.EventId);
}
