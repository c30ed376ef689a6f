using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pml.GraphEvents.Redis.Tests.TestSupport;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests;

/// <summary><c>AddRedisBackplane(multiplexer)</c>: the backplane on the application's connection, which it never closes.</summary>
public sealed class SharedMultiplexerTests
{
    [Fact]
    public async Task Two_hosts_on_the_applications_multiplexer_share_events_and_leave_it_connected_when_they_stop()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var shared = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var key = $"test:{Guid.NewGuid():N}";
        var a = await ScaleOutHost.StartAsync(redis, key, multiplexer: shared);
        var b = await ScaleOutHost.StartAsync(redis, key, multiplexer: shared);
        try
        {
            await using var onB = await b.OpenAsync();
            Assert.Equal(GraphEventTypes.Connected, (await onB.ReadAsync()).EventType);
            await a.Broadcaster.PublishAsync(Events.Edge("on-a"), TestContext.Current.CancellationToken);
            var seen = await onB.ReadAsync();
            Assert.Equal("on-a", Events.FromTool(seen));
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }

        // Both hosts stopped and their containers are disposed: the connection is still the application's, and works.
        Assert.True(shared.IsConnected);
        var db = shared.GetDatabase();
        await db.StringSetAsync($"{key}:probe", "still here");
        Assert.Equal("still here", (string?)await db.StringGetAsync($"{key}:probe"));
        Assert.True(await db.KeyExistsAsync(key));
    }

    [Fact]
    public void No_connection_settings_are_needed_on_a_shared_multiplexer()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddRedisBackplane(_ => throw new InvalidOperationException("not resolved here"));
        using var provider = services.BuildServiceProvider();
        Assert.Null(provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value.ConnectionString);
    }

    [Fact]
    public void Configuration_registered_after_AddRedisBackplane_is_bound_and_code_wins()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddRedisBackplane(o => o.PollInterval = TimeSpan.FromSeconds(2));
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["GraphEvents:Redis:ConnectionString"] = "127.0.0.1:1",
                ["GraphEvents:Redis:StreamKey"] = "from-configuration",
                ["GraphEvents:Redis:PollInterval"] = "00:00:01",
            })
            .Build());
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value;
        Assert.Equal("127.0.0.1:1", options.ConnectionString);
        Assert.Equal("from-configuration", options.StreamKey);
        Assert.Equal(TimeSpan.FromSeconds(2), options.PollInterval);
    }

    [Fact]
    public void Without_configuration_only_code_sets_the_options()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddRedisBackplane("127.0.0.1:1");
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value;
        Assert.Equal("127.0.0.1:1", options.ConnectionString);
        Assert.Equal(new RedisBackplaneOptions().StreamKey, options.StreamKey);
    }
}
