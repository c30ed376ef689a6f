using Microsoft.Extensions.Logging.Abstractions;
using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary>
/// A replica that fell behind the stream's trimming in the middle of a unit never folds the start of
/// one unit with the end of another: it drops both and waits for a snapshot, its graph unchanged.
/// </summary>
public sealed class ReplicaTrimTests
{
    private const string Epoch = "cccccccccc";

    private static ToolGraphEngineCore NewEngine()
    {
        var engine = (ToolGraphEngineCore)ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { AutoRegisterUnknownTools = true });
        engine.UseSharedLog();
        return engine;
    }

    /// <summary>The stream entries the learner's commit script would write for a unit at <paramref name="first"/>.</summary>
    private static List<StreamEntry> Entries(IReadOnlyList<GraphEvent> events, long unitBase, long first)
    {
        List<StreamEntry> entries = [];
        for (var i = 0; i < events.Count; i++)
        {
            var tag = new NameValueEntry(i == 0 ? "b" : "u", RedisStreamId.Format(unitBase));
            entries.Add(new StreamEntry(RedisStreamId.Format(first + i), [tag, new NameValueEntry("t", events[i].EventType), new NameValueEntry("d", GraphEventJson.Serialize(events[i]))]));
        }

        return entries;
    }

    [Fact]
    public async Task The_start_of_one_unit_and_the_end_of_another_are_never_folded_together()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartNewAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();

        // Two units as a learner makes them: offsets 1000.. and 2000.. in the stream.
        var learner = NewEngine();
        List<(IReadOnlyList<GraphEvent> Events, long Base, long Last)> units = [];
        long head = 0;
        foreach (var (execution, first) in new[] { (WorkflowExecution.Chain("a", ["x", "y", "z"]), 1000L), (WorkflowExecution.Chain("b", ["z", "w"]), 2000L) })
        {
            await learner.LearnAsync([execution], (events, expected, _) =>
            {
                var last = first + events.Count - 1;
                units.Add((events, expected, last));
                head = last;
                return ValueTask.FromResult(new SharedLogPosition(last, $"{Epoch}-{last}"));
            }, ct);
        }

        var unit1 = Entries(units[0].Events, units[0].Base, 1000);
        Assert.True(unit1.Count > 2, "unit 1 has more than the two entries read of it");
        var unit2 = Entries(units[1].Events, units[1].Base, 2000);

        var replica = NewEngine();
        var reader = new RedisGraphReplica(replica, new RedisClusterKeys($"test:{Guid.NewGuid():N}"), TimeSpan.FromMilliseconds(100), TimeProvider.System, NullLogger.Instance);
        await reader.EnsureEpochAsync(db);

        // The first two entries of unit 1, then (the rest trimmed away) the tail of unit 2.
        foreach (var entry in unit1.Take(2).Concat(unit2.Skip(1)))
        {
            await reader.ReadEntryAsync(db, entry, ct);
        }

        Assert.Equal(0, replica.Snapshot.Version);
        Assert.Equal(0, replica.SharedOffset);

        // Whole units fold as ever.
        foreach (var entry in unit1.Concat(unit2))
        {
            await reader.ReadEntryAsync(db, entry, ct);
        }

        Assert.Equal(head, replica.SharedOffset);
        Assert.Equal(learner.Snapshot.Edges, replica.Snapshot.Edges);
    }
}
