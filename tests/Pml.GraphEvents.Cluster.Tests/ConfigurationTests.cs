namespace Pml.GraphEvents.Cluster.Tests;

/// <summary>
/// A cluster setting without a connection string would be silently ignored (a single-instance server
/// on SQLite, while the operator believes it is on Redis): the server refuses to start, naming it.
/// So does an event log setting given together with Redis (the event log is then the Redis stream).
/// </summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("StreamKey", "pml:test")]
    [InlineData("LearnerLease", "00:00:03")]
    [InlineData("SnapshotEveryEvents", "20")]
    [InlineData("MaxLength", "100")]
    [InlineData("PresenceInterval", "00:00:00.200")]
    public async Task A_redis_setting_without_a_connection_string_refuses_the_start_naming_it(string setting, string value)
    {
        var (exitCode, output) = await ClusterNode.RunUntilExitAsync(["--simulate", "false", $"--GraphEvents:Redis:{setting}={value}"]);
        Assert.True(exitCode != 0, $"exit code {exitCode}; output:\n{output}");
        Assert.Contains($"GraphEvents:Redis:{setting}", output, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:Redis:ConnectionString", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_log_setting_with_redis_refuses_the_start_naming_it()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var (exitCode, output) = await ClusterNode.RunUntilExitAsync(
            ["--simulate", "false", $"--GraphEvents:Redis:ConnectionString={redis.ConnectionString}", "--Server:EventLog=Memory"]);
        Assert.True(exitCode != 0, $"exit code {exitCode}; output:\n{output}");
        Assert.Contains("Server:EventLog", output, StringComparison.Ordinal);
    }
}
