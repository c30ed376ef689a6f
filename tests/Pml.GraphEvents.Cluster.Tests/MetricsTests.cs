using System.Net;

namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// <c>GET /metrics</c> in cluster mode, on real instances (child processes) sharing a redis-server:
/// the <c>Pml.GraphEvents.Redis</c> meter is there beside the core's, and its values say who learns,
/// what was learned and folded, as docs/operations.md describes them.
/// </summary>
public sealed class MetricsTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Each_instance_reports_the_redis_meter_with_one_learner_and_the_executions_it_learned()
    {
        const int executions = 3;
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await ClusterServer.StartAsync(redis, 2);
        var (learner, _) = await cluster.WaitForLearnerAsync();
        var other = cluster.Nodes.Single(n => n != learner);
        var prefix = Executions.NewPrefix();
        for (var i = 0; i < executions; i++)
        {
            await ClusterServer.PostAcceptedAsync(other, Executions.Chain($"{prefix}-{i}", "git:status", "git:commit"));
        }

        await ClusterServer.WaitForSameGraphAsync(cluster.Nodes, g => g.Count("git:status", "git:commit") == executions, $"the edge observed {executions} times on both");

        // The counters are read when scraped; the exporter may answer from its cache for 300 ms.
        PrometheusText onLearner = null!, onOther = null!;
        await Eventually.TrueAsync(
            async () =>
            {
                onLearner = await ScrapeAsync(learner);
                onOther = await ScrapeAsync(other);
                return onLearner.Value("pml_graph_events_redis_learner_executions_total") == executions
                    && onOther.Value("pml_graph_events_redis_replica_units_total") >= 1;
            },
            "the learner's executions and the other's folded units on /metrics");

        Assert.Equal((1, 0), (onLearner.Value("pml_graph_events_redis_learner_active"), onOther.Value("pml_graph_events_redis_learner_active")));
        Assert.Equal(0, onOther.Value("pml_graph_events_redis_learner_executions_total"));
        Assert.True(onLearner.Value("pml_graph_events_redis_learner_terms_total") >= 1);

        // The learner folds no unit of its own. A snapshot is loaded at start only when the stream
        // has one (the first instance on an empty stream has none to load), so only its presence is sure.
        Assert.Equal(0, onLearner.Value("pml_graph_events_redis_replica_units_total"));
        Assert.All([onLearner, onOther], scrape => Assert.True(scrape.Has("pml_graph_events_redis_replica_snapshots_total")));

        // The lag is the learner's to report; every instance read the learned events from the stream.
        Assert.True(onLearner.Has("pml_graph_events_redis_learner_lag"));
        Assert.False(onOther.Has("pml_graph_events_redis_learner_lag"));
        Assert.All([onLearner, onOther], scrape => Assert.True(scrape.Value("pml_graph_events_redis_read_lag_milliseconds_count") >= executions));
        Assert.All([onLearner, onOther], scrape => Assert.Equal(0, scrape.Value("pml_graph_events_redis_outage_buffer")));
    }

    private static async Task<PrometheusText> ScrapeAsync(ClusterNode node)
    {
        using var response = await Http.GetAsync(node.Uri("metrics"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
