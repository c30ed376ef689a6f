using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pml.GraphEvents.Sqlite;

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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddSqliteToolGraphStore_selects_the_sqlite_store_before_or_after_AddToolGraphEngine(bool storeFirst)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pml-graph-{Guid.NewGuid():N}.db");
        try
        {
            var services = new ServiceCollection();
            var builder = services.AddGraphEvents();
            if (storeFirst)
            {
                builder.AddSqliteToolGraphStore(path).AddToolGraphEngine();
            }
            else
            {
                builder.AddToolGraphEngine().AddSqliteToolGraphStore(path);
            }

            await using (var provider = services.BuildServiceProvider())
            {
                var store = Assert.IsType<SqliteToolGraphStore>(provider.GetRequiredService<IToolGraphStore>());
                Assert.Equal(path, store.DatabasePath);
                Assert.Single(services, descriptor => descriptor.ServiceType == typeof(IToolGraphStore));
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
    public void AddSqliteToolGraphStore_rejects_a_blank_path()
    {
        var builder = new ServiceCollection().AddGraphEvents();

        var error = Assert.Throws<ArgumentException>(() => builder.AddSqliteToolGraphStore(" "));

        Assert.Equal("databasePath", error.ParamName);
    }

    [Fact]
    public async Task Invalid_options_stop_host_start_up_with_a_message_naming_them()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddGraphEvents().AddToolGraphEngine(options =>
        {
            options.SyncConfidenceThreshold = 1.5;
            options.MaxEdgesPerExecution = 0;
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("GraphEvents:Engine:SyncConfidenceThreshold", error.Message, StringComparison.Ordinal);
        Assert.Contains("GraphEvents:Engine:MaxEdgesPerExecution", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_rejects_invalid_options()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            ToolGraphEngine.Create(new RecordingPublisher(), options: new ToolGraphEngineOptions { SyncConfidenceThreshold = double.NaN }));

        Assert.Contains("SyncConfidenceThreshold", error.Message, StringComparison.Ordinal);
    }
}
