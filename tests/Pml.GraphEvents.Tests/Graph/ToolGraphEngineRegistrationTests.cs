using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Tests.Graph;

public sealed class ToolGraphEngineRegistrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddToolGraphEngine_publishes_through_the_registered_broadcaster()
    {
        var services = new ServiceCollection();
        services.AddGraphEvents().AddToolGraphEngine(options => options.AutoRegisterUnknownTools = true);
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<IToolGraphEngine>();
        var broadcaster = provider.GetRequiredService<IGraphEventBroadcaster>();
        using var subscription = broadcaster.Subscribe();

        await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["a", "b"]), Ct);

        Assert.IsType<InMemoryToolGraphStore>(provider.GetRequiredService<IToolGraphStore>());
        List<string> types = [];
        await foreach (var frame in subscription.ReadAllAsync(Ct))
        {
            types.Add(frame.EventType);
            if (frame.Event is MetricsUpdatedEvent)
            {
                break;
            }
        }

        Assert.Equal(["connected", "edge_created", "workflow_executed", "metrics_updated"], types);
    }

    [Fact]
    public async Task Sqlite_path_from_configuration_selects_the_sqlite_store()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pml-graph-{Guid.NewGuid():N}.db");
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["GraphEvents:Engine:SqliteDatabasePath"] = path })
                .Build();
            var services = new ServiceCollection();
            services.AddGraphEvents().AddToolGraphEngine(configuration);
            await using (var provider = services.BuildServiceProvider())
            {
                var store = Assert.IsType<SqliteToolGraphStore>(provider.GetRequiredService<IToolGraphStore>());
                Assert.Equal(path, store.DatabasePath);
                await provider.GetRequiredService<IToolGraphEngine>().SyncAsync(Ct);
            }

            Assert.True(File.Exists(path));
        }
        finally
        {
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm", ".lock" })
            {
                File.Delete(path + suffix);
            }
        }
    }

    [Fact]
    public async Task Invalid_options_stop_host_start_up_with_a_message_naming_them()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddGraphEvents().AddToolGraphEngine(options =>
        {
            options.SyncConfidenceThreshold = 1.5;
            options.SqliteDatabasePath = " ";
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("GraphEvents:Engine:SyncConfidenceThreshold", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:Engine:SqliteDatabasePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_rejects_invalid_options()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { SyncConfidenceThreshold = double.NaN }));

        Assert.Contains("SyncConfidenceThreshold", error.Message, StringComparison.Ordinal);
    }
}
