using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Pml.GraphEvents.Cluster.Tests.TestSupport;

/// <summary>
/// N instances of the ready-to-run server in cluster mode on one redis-server and one stream key
/// of the test's own: starts them, reads their <c>/healthz</c>, finds the learner, kills one
/// (SIGKILL), posts executions and reads graphs. The redis-server belongs to the test (it stops,
/// restarts and pauses it); the instances belong to this harness.
/// </summary>
internal sealed class ClusterServer : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly List<ClusterNode> _nodes = [];
    private readonly IReadOnlyDictionary<string, string> _settings;

    private ClusterServer(RedisServer redis, string streamKey, IReadOnlyDictionary<string, string> settings)
    {
        Redis = redis;
        StreamKey = streamKey;
        _settings = settings;
    }

    public RedisServer Redis { get; }

    /// <summary>The test's own stream key: tests never share keys, even on their own redis-server.</summary>
    public string StreamKey { get; }

    public IReadOnlyList<ClusterNode> Nodes => _nodes;

    public IEnumerable<ClusterNode> Alive => _nodes.Where(n => !n.HasExited);

    public ClusterNode this[int index] => _nodes[index];

    /// <summary>
    /// Starts <paramref name="instances"/> instances on <paramref name="redis"/>; <paramref name="settings"/>
    /// (configuration keys without the leading <c>--</c>) come after the harness's defaults and win over them.
    /// </summary>
    public static async Task<ClusterServer> StartAsync(RedisServer redis, int instances, IReadOnlyDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string>
        {
            ["Server:Simulate"] = "false",
            ["GraphEvents:Redis:ConnectionString"] = redis.ConnectionString,
            ["GraphEvents:Redis:StreamKey"] = $"pml:cluster-test:{Guid.NewGuid():N}",
            ["GraphEvents:Redis:PresenceInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var cluster = new ClusterServer(redis, all["GraphEvents:Redis:StreamKey"], all);
        try
        {
            for (var i = 0; i < instances; i++)
            {
                await cluster.AddNodeAsync();
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more instance (named A, B, C … in start order) with the cluster's settings.</summary>
    public async Task<ClusterNode> AddNodeAsync()
    {
        var name = ((char)('A' + _nodes.Count)).ToString();
        var node = await ClusterNode.StartAsync(name, _settings.Select(s => $"--{s.Key}={s.Value}"));
        _nodes.Add(node);
        Log($"started {node}");
        return node;
    }

    /// <summary>Writes a line to the test's output (shown with a failure, and by the runner's detailed output).</summary>
    public static void Log(string line) =>
        TestContext.Current.TestOutputHelper?.WriteLine($"[{DateTime.UtcNow:HH:mm:ss.fff}] {line}");

    public static async Task<Health> HealthAsync(ClusterNode node)
    {
        using var response = await Http.GetAsync(node.Uri("healthz"), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET /healthz on {node}: {(int)response.StatusCode} {text}");
        return Health.Parse(text);
    }

    /// <summary>The instance's health, or null when it does not answer (killed, or not listening).</summary>
    public static async Task<Health?> TryHealthAsync(ClusterNode node)
    {
        try
        {
            return await HealthAsync(node);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits until every live instance (other than <paramref name="except"/>'s instance id, if given,
    /// as the learner) names the same learner, and that instance says it is the learner; returns it.
    /// </summary>
    public async Task<(ClusterNode Node, Health Health)> WaitForLearnerAsync(string? except = null)
    {
        (ClusterNode, Health)? found = null;
        var last = "";
        await Eventually.TrueAsync(
            async () =>
            {
                var healths = new List<(ClusterNode Node, Health Health)>();
                foreach (var node in Alive)
                {
                    if (await TryHealthAsync(node) is { } health)
                    {
                        healths.Add((node, health));
                    }
                }

                last = string.Join("; ", healths.Select(h => $"{h.Node.Name}: {h.Health.Raw}"));
                var learners = healths.Where(h => h.Health.IsLearner).ToList();
                if (healths.Count == Alive.Count()
                    && learners.Count == 1
                    && learners[0].Health.InstanceId != except
                    && healths.All(h => h.Health.Learner == learners[0].Health.InstanceId))
                {
                    found = learners[0];
                    return true;
                }

                return false;
            },
            "one learner that every live instance names");
        Log($"learner: {found!.Value.Item1} ({last})");
        return found.Value;
    }

    /// <summary>The instance whose <c>/healthz</c> says <c>instance_id</c> is <paramref name="instanceId"/>.</summary>
    public async Task<ClusterNode> NodeOfAsync(string instanceId)
    {
        foreach (var node in Alive)
        {
            if ((await TryHealthAsync(node))?.InstanceId == instanceId)
            {
                return node;
            }
        }

        throw new InvalidOperationException($"No live instance has instance_id {instanceId}.");
    }

    /// <summary>SIGKILL of one instance.</summary>
    public static async Task KillAsync(ClusterNode node)
    {
        await node.KillAsync();
        Log($"killed {node}");
    }

    /// <summary>Posts <paramref name="body"/> to <c>/executions</c>; a transport failure is returned, not thrown.</summary>
    public static async Task<PostAnswer> PostAsync(ClusterNode node, string body)
    {
        try
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await Http.PostAsync(node.Uri("executions"), content, TestContext.Current.CancellationToken);
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            var retryAfter = response.Headers.RetryAfter?.ToString();
            return new PostAnswer(response.StatusCode, text, retryAfter, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return new PostAnswer(null, "", null, ex);
        }
    }

    /// <summary>Posts and asserts a 202.</summary>
    public static async Task<PostAnswer> PostAcceptedAsync(ClusterNode node, string body)
    {
        var answer = await PostAsync(node, body);
        Assert.True(answer.IsAccepted, $"POST /executions on {node}: {answer}\nbody: {body}");
        return answer;
    }

    /// <summary>
    /// Posts until the answer is a 202 (after an outage, while the instance reconnects, it may be a
    /// 503 for a while); any other answer fails the test.
    /// </summary>
    public static async Task<PostAnswer> PostUntilAcceptedAsync(ClusterNode node, string body)
    {
        PostAnswer? answer = null;
        await Eventually.TrueAsync(
            async () =>
            {
                answer = await PostAsync(node, body);
                Assert.True(answer.IsAccepted || answer.Status == HttpStatusCode.ServiceUnavailable || answer.Failure is TaskCanceledException, $"POST /executions on {node}: {answer}");
                return answer.IsAccepted;
            },
            $"a 202 for a POST on {node}");
        return answer!;
    }

    public static async Task<GraphView> GraphAsync(ClusterNode node)
    {
        using var response = await Http.GetAsync(node.Uri("graph"), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET /graph on {node}: {(int)response.StatusCode} {text}");
        return GraphView.Parse(text);
    }

    /// <summary>
    /// Waits until every one of <paramref name="nodes"/> answers <c>GET /graph</c> at the same
    /// (non-null) <c>as_of_event_id</c> and <paramref name="condition"/> holds for it; returns their graphs.
    /// </summary>
    public static async Task<List<GraphView>> WaitForSameGraphAsync(IEnumerable<ClusterNode> nodes, Func<GraphView, bool> condition, string what)
    {
        var list = nodes.ToList();
        List<GraphView> views = [];
        await Eventually.TrueAsync(
            async () =>
            {
                views = [];
                foreach (var node in list)
                {
                    views.Add(await GraphAsync(node));
                }

                return views[0].AsOfEventId is not null && views.All(v => v.AsOfEventId == views[0].AsOfEventId) && views.All(condition);
            },
            $"{what}, at the same as_of_event_id on {string.Join(", ", list.Select(n => n.Name))}");
        return views;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            // The end of each instance's output, for a failed test's message.
            var tail = node.Output.Split('\n').TakeLast(30);
            Log($"--- output of {node} (last 30 lines) ---\n{string.Join('\n', tail)}");
            await node.DisposeAsync();
        }
    }
}

/// <summary>Bodies for <c>POST /executions</c>.</summary>
internal static class Executions
{
    /// <summary>One chain execution: each tool depends on the one before (edges tools[i] → tools[i + 1]).</summary>
    public static string Chain(string id, params string[] tools) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["execution_id"] = id, ["tool_ids"] = tools, ["success"] = true, ["execution_time_ms"] = 5 });

    /// <summary>Several executions in one body (learned all or nothing, in order).</summary>
    public static string Array(IEnumerable<string> executions) => $"[{string.Join(',', executions)}]";

    /// <summary>A unique prefix for a test's execution ids, so that no window on any stream key sees them twice by accident.</summary>
    public static string NewPrefix() => Guid.NewGuid().ToString("N")[..8];

    public static string Elapsed(Stopwatch watch) => string.Create(CultureInfo.InvariantCulture, $"{watch.Elapsed.TotalSeconds:0.00} s");
}
