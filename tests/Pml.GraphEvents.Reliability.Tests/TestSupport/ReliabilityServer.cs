using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.Reliability.Tests.TestSupport;

/// <summary>
/// The real server (<see cref="Pml.GraphEvents.Server.ServerApp.Build"/>, as Program.cs runs it) on
/// a real Kestrel socket at 127.0.0.1, with its own SQLite file and the simulator off.
/// </summary>
internal sealed class ReliabilityServer : IAsyncDisposable
{
    public const string StreamPath = "/events/stream";

    private readonly TempDatabase? _ownDatabase;
    private bool _stopped;

    private ReliabilityServer(WebApplication app, Uri baseAddress, TempDatabase? ownDatabase)
    {
        App = app;
        BaseAddress = baseAddress;
        _ownDatabase = ownDatabase;
        Broadcaster = app.Services.GetRequiredService<IGraphEventBroadcaster>();

        // Enough connections for the load test, and no draining of an aborted stream's body.
        Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2_000, MaxResponseDrainSize = 0 })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public IGraphEventBroadcaster Broadcaster { get; }

    public HttpClient Client { get; }

    public Uri StreamUri(string query = "") => new(BaseAddress, StreamPath + query);

    /// <summary>Starts a server; <paramref name="port"/> 0 picks a free one, <paramref name="databasePath"/> null a temporary file.</summary>
    public static async Task<ReliabilityServer> StartAsync(
        IReadOnlyDictionary<string, string>? settings = null,
        Action<WebApplicationBuilder>? configure = null,
        int port = 0,
        string? databasePath = null,
        ILoggerProvider? logger = null)
    {
        var own = databasePath is null ? new TempDatabase() : null;
        List<string> args = ["--urls", $"http://127.0.0.1:{port}", "--db", databasePath ?? own!.Path, "--simulate", "false"];
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            args.Add($"--{key}={value}");
        }

        var app = Pml.GraphEvents.Server.ServerApp.Build([.. args], builder =>
        {
            builder.Logging.ClearProviders();
            if (logger is not null)
            {
                builder.Logging.AddProvider(logger);
                builder.Logging.SetMinimumLevel(LogLevel.Debug);
            }

            configure?.Invoke(builder);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ReliabilityServer(app, new Uri(address + "/"), own);
    }

    public static StringContent Json(string json) => new(json, new MediaTypeHeaderValue("application/json"));

    /// <summary>Whether the server still answers an ordinary request: the check after every attack.</summary>
    public async Task AssertHealthyAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Eventually.Deadline);
        using var response = await Client.GetAsync("healthz", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// Publishes a marker and returns its id once an in-process subscriber has received it. It
    /// queues behind everything published before it (the server's own start-up events, which the
    /// pump may broadcast after StartAsync returned), so by then all of that has been broadcast
    /// and the next event published gets the marker's id + 1.
    /// </summary>
    public async Task<long> BroadcastMarkerAsync()
    {
        using var subscription = Broadcaster.Subscribe();
        await Broadcaster.PublishAsync(new EdgeCreatedEvent("marker", "x", 0.5, DateTimeOffset.UnixEpoch), TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Eventually.Deadline);
        await foreach (var frame in subscription.ReadAllAsync(timeout.Token))
        {
            if (frame.Event is EdgeCreatedEvent { FromToolId: "marker" })
            {
                return frame.Id!.Value;
            }
        }

        throw new InvalidOperationException($"The subscription ended ({subscription.EndReason}) before the marker arrived.");
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Client.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
        _ownDatabase?.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
