using Microsoft.Extensions.DependencyInjection;

namespace Pml.GraphEvents.Reliability.Tests.TestSupport;

/// <summary>
/// A server under attack, watched by streams that stay open throughout (one unfiltered, one
/// filtered, one resumed). When the attack is over, every byte each witness received must parse
/// as well-formed frames, and the server must still answer.
/// </summary>
internal sealed class WatchedServer : IAsyncDisposable
{
    private readonly List<RecordingStream> _witnesses;

    private WatchedServer(TestHost server, List<RecordingStream> witnesses)
    {
        Server = server;
        _witnesses = witnesses;
    }

    public TestHost Server { get; }

    public IToolGraphEngine Engine => Server.App.Services.GetRequiredService<IToolGraphEngine>();

    public static async Task<WatchedServer> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string>
        {
            // Hostile tool ids must reach the frames as edges, not only as workflow tool_ids.
            ["GraphEvents:Engine:AutoRegisterUnknownTools"] = "true",

            // The witnesses and the attacks' streams all come from 127.0.0.1, and an attack that
            // resets its connections may run ahead of the server noticing: the per-address limit
            // has its own tests.
            ["GraphEvents:Stream:MaxStreamsPerAddress"] = "1000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var server = await RunningServer.StartAsync(settings: all);
        List<RecordingStream> witnesses =
        [
            await RecordingStream.OpenAsync(server.Client, server.StreamUri()),
            await RecordingStream.OpenAsync(server.Client, server.StreamUri("?types=edge_created,workflow_executed")),
            await RecordingStream.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", EventIds.At(server.Broadcaster.GetStatistics().LastEventId, 0))),
        ];
        await Eventually.HoldsAsync(() => witnesses.All(w => w.CountFrames("connected") == 1), "every witness connected");
        return new WatchedServer(server, witnesses);
    }

    /// <summary>Waits until every witness has the <paramref name="workflows"/>-th <c>workflow_executed</c>, then checks every byte each received.</summary>
    public async Task<List<List<ReceivedFrame>>> VerifyWitnessesAsync(int workflows)
    {
        await Eventually.HoldsAsync(
            () => _witnesses.All(w => w.CountFrames("workflow_executed") >= workflows),
            () => $"every witness received {workflows} workflow_executed frames");
        var all = new List<List<ReceivedFrame>>();
        foreach (var witness in _witnesses)
        {
            Assert.False(witness.Ended, "A witness's stream ended during the attack.");
            var frames = witness.Frames();
            var ids = frames.Where(f => f.Id is not null).Select(f => EventIds.Offset(f.Id)).ToList();
            Assert.Equal(ids.Order(), ids);
            Assert.Equal(ids.Distinct().Count(), ids.Count);
            all.Add(frames);
        }

        await Server.AssertHealthyAsync();
        return all;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var witness in _witnesses)
        {
            await witness.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}
