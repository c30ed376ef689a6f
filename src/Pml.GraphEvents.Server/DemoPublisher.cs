namespace Pml.GraphEvents.Server;

/// <summary>
/// Publishes a sample edge every second so a newcomer sees events flow at once. A stand-in until
/// the graph engine and its workflow simulator drive the server.
/// </summary>
internal sealed partial class DemoPublisher(IGraphEventPublisher publisher, TimeProvider time, ILogger<DemoPublisher> logger) : BackgroundService
{
    private static readonly string[] Tools = ["filesystem:read_file", "git:status", "git:diff", "git:commit", "github:create_pull_request"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        var step = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var from = Tools[step % Tools.Length];
            var to = Tools[(step + 1) % Tools.Length];
            await publisher.PublishAsync(new EdgeCreatedEvent(from, to, 0.5, time.GetUtcNow()), stoppingToken);
            LogPublished(from, to);
            step++;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published edge {From} -> {To}")]
    private partial void LogPublished(string from, string to);
}
