using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.Redis.Tests.TestSupport;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>Issue #12, item 9 (Redis part): one event that cannot be encoded must not stop the writer.</summary>
public sealed class UnencodableEventTests
{
    [Fact]
    public async Task An_unencodable_event_is_skipped_and_counted_and_the_next_one_arrives_everywhere()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = $"test:{Guid.NewGuid():N}";
        await using var a = await ScaleOutHost.StartAsync(redis, key);
        await using var b = await ScaleOutHost.StartAsync(redis, key);
        await using var onA = await a.OpenAsync();
        await using var onB = await b.OpenAsync();
        await onA.ReadAsync();
        await onB.ReadAsync();

        // Straight into the backplane: the broadcaster may refuse such an event up front, and the
        // writer must survive one that gets through anyway.
        Assert.True(a.Backplane.TryPublish(new IngressItem(new EdgeCreatedEvent("nan", "tool:next", double.NaN, Events.Timestamp), BuiltInEventContracts.EdgeCreated, 0, null)));
        Assert.True(a.Broadcaster.TryPublish(Events.Edge("valid")));

        Assert.Equal("valid", Events.FromTool(await onA.ReadAsync()));
        Assert.Equal("valid", Events.FromTool(await onB.ReadAsync()));
        Assert.Equal(1, a.Backplane.EventsAppended);
        Assert.Equal(1, MeterReading.Read(a.App.Services.GetRequiredService<IMeterFactory>(), "pml.graph_events.redis.events.dropped", "unencodable"));
    }
}
