using Pml.GraphEvents;

namespace Pml.GraphEvents.Server;

/// <summary>
/// <c>tail &lt;stream-url&gt; [--types a,b]</c>: prints a stream's events as they arrive, one line
/// each, reconnecting as the <see cref="GraphEventStreamClient"/> does, until Ctrl+C.
/// </summary>
internal static class TailCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || !Uri.TryCreate(args[0], UriKind.Absolute, out var uri))
        {
            await Console.Error.WriteLineAsync("usage: tail <stream-url> [--types edge_created,metrics_updated]   e.g. tail http://127.0.0.1:5080/events/stream");
            return 2;
        }

        var options = new GraphEventStreamClientOptions();
        if (args is [_, "--types", var types, ..])
        {
            options.EventTypes = types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        using var loggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        }).SetMinimumLevel(LogLevel.Information));
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var client = new GraphEventStreamClient(http, uri, options, loggerFactory.CreateLogger<GraphEventStreamClient>());
        try
        {
            await foreach (var graphEvent in client.ReadAllAsync(cancel.Token))
            {
                var id = graphEvent is HeartbeatEvent or EventsLostEvent ? "-" : client.LastEventId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-";
                Console.WriteLine($"{id,6} {graphEvent.EventType,-18} {GraphEventJson.Serialize(graphEvent)}");
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
        }

        return 0;
    }
}
