namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// The heartbeat's <c>connected_clients</c> (and <c>/healthz</c>'s) counts the clients of the whole
/// cluster, each instance refreshing its own count in Redis every PresenceInterval.
/// </summary>
public sealed class PresenceTests
{
    [Fact]
    public async Task Heartbeats_on_every_instance_count_the_clients_of_the_whole_cluster()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await ClusterServer.StartAsync(redis, 2, new Dictionary<string, string>
        {
            ["GraphEvents:HeartbeatInterval"] = "00:00:01",
            ["GraphEvents:Redis:PresenceInterval"] = "00:00:00.200",
        });
        var (a, b) = (cluster[0], cluster[1]);
        var readers = new List<StreamRecorder>();
        try
        {
            readers.Add(await StreamRecorder.OpenAsync(a));
            readers.Add(await StreamRecorder.OpenAsync(a));
            for (var i = 0; i < 3; i++)
            {
                readers.Add(await StreamRecorder.OpenAsync(b));
            }

            await AllReportAsync(readers, cluster, 5);

            // One client of B leaves: everyone's count follows.
            await readers[^1].DisposeAsync();
            readers.RemoveAt(readers.Count - 1);
            await AllReportAsync(readers, cluster, 4);
        }
        finally
        {
            foreach (var reader in readers)
            {
                await reader.DisposeAsync();
            }
        }
    }

    private static async Task AllReportAsync(List<StreamRecorder> readers, ClusterServer cluster, int expected)
    {
        static long? LastHeartbeat(StreamRecorder reader) =>
            reader.Frames().LastOrDefault(f => f.EventType == "heartbeat")?.Number("connected_clients");

        await Eventually.HoldsAsync(
            () => readers.All(r => LastHeartbeat(r) == expected),
            () => $"every reader's last heartbeat reports {expected} connected clients (they report {string.Join(", ", readers.Select(r => $"{r.Node.Name}: {LastHeartbeat(r)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}"))})");
        var until = DateTime.UtcNow + Eventually.Deadline;
        while (true)
        {
            var healths = new List<Health>();
            foreach (var node in cluster.Nodes)
            {
                healths.Add(await ClusterServer.HealthAsync(node));
            }

            if (healths.All(h => h.ConnectedClients == expected))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < until, $"/healthz on every instance reports connected_clients {expected}; last: {string.Join(" ", healths.Select(h => h.Raw))}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
