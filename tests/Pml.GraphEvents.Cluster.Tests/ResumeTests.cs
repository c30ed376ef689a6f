namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// A client that read on one instance and left resumes on another with its Last-Event-ID (header
/// or query) and gets exactly the frames it missed, as that instance's own client would have.
/// </summary>
public sealed class ResumeTests
{
    private const string From = "git:status";
    private const string To = "git:commit";

    [Theory]
    [InlineData("Last-Event-ID")]
    [InlineData("last_event_id")]
    public async Task A_client_that_left_A_resumes_on_B_with_exactly_the_frames_it_missed(string resumeBy)
    {
        var by = resumeBy == "last_event_id" ? ResumeBy.Query : ResumeBy.Header;
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await ClusterServer.StartAsync(redis, 2);
        await cluster.WaitForLearnerAsync();
        var (a, b) = (cluster[0], cluster[1]);
        await using var witness = await StreamRecorder.OpenAsync(b);
        var prefix = Executions.NewPrefix();

        string leftAt;
        await using (var reader = await StreamRecorder.OpenAsync(a))
        {
            for (var i = 0; i < 5; i++)
            {
                await ClusterServer.PostAcceptedAsync(a, Executions.Chain($"{prefix}-{i}", From, To));
            }

            var views = await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.Count(From, To) == 5, "5 executions learned");
            leftAt = views[0].AsOfEventId!;
            await Eventually.HoldsAsync(() => reader.LastId == leftAt, () => $"the reader on A reached {leftAt} (at {reader.LastId})");
        }

        for (var i = 5; i < 15; i++)
        {
            await ClusterServer.PostAcceptedAsync(cluster[i % 2], Executions.Chain($"{prefix}-{i}", From, To));
        }

        var end = (await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.Count(From, To) == 15, "15 executions learned"))[0].AsOfEventId;
        await Eventually.HoldsAsync(() => witness.LastId == end, () => $"the witness on B reached {end}");
        var missed = witness.Frames().Where(f => f.IsShared).SkipWhile(f => f.Id != leftAt).Skip(1).Select(f => (f.Id, f.EventType, f.Data)).ToList();
        Assert.Equal(10, missed.Count(f => f.EventType == "workflow_executed"));

        await using var resumed = await StreamRecorder.OpenAsync(b, leftAt, by);
        await Eventually.HoldsAsync(() => resumed.LastId == end, () => $"the resumed client on B reached {end} (at {resumed.LastId})");
        var frames = resumed.Frames();
        Assert.Equal("connected", frames[0].EventType);
        Assert.DoesNotContain(frames, f => f.EventType == "events_lost");
        Assert.Equal(missed, frames.Where(f => f.IsShared).Select(f => (f.Id, f.EventType, f.Data)));
        Assert.Equal(Enumerable.Range(5, 10).Select(i => $"{prefix}-{i}"), resumed.Workflows());
    }
}
