using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.Testing;

/// <summary>
/// The one test host: a real, in-process Kestrel on 127.0.0.1 (a free port unless the app says
/// otherwise) running a <see cref="WebApplication"/> the test project configures, with a broadcaster.
/// </summary>
/// <remarks>
/// It knows nothing of the packages a test project may not reference: each project says what its app
/// is through callbacks (the AspNetCore tests map the stream endpoint, the Redis tests add the
/// backplane, the server tests build the ready-to-run server) in a small factory of its own
/// (<c>StreamServer</c>, <c>ScaleOutHost</c>, <c>RunningServer</c>).
/// </remarks>
internal sealed class TestHost : IAsyncDisposable
{
    /// <summary>Where every test app serves the stream (the ready-to-run server's path).</summary>
    public const string StreamPath = "/events/stream";

    private readonly IDisposable? _owned;
    private bool _stopped;

    private TestHost(WebApplication app, Uri baseAddress, IDisposable? owned)
    {
        App = app;
        BaseAddress = baseAddress;
        _owned = owned;
        Broadcaster = app.Services.GetRequiredService<IGraphEventBroadcaster>();

        // Enough connections for the load tests, and no draining of an aborted stream's body.
        Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2_000, MaxResponseDrainSize = 0 })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>The app's address, <c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public IGraphEventBroadcaster Broadcaster { get; }

    /// <summary>A client for streams: no timeout of its own (reads are bounded by the test's deadlines).</summary>
    public HttpClient Client { get; }

    public Uri StreamUri(string query = "") => new(BaseAddress, StreamPath + query);

    /// <summary>A new client for ordinary requests, with a 30-second timeout; the caller disposes it.</summary>
    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Builds a slim app on 127.0.0.1 and a free port, without log output, and starts it.</summary>
    /// <param name="configure">Adds the test's services and configuration (the broadcaster among them).</param>
    /// <param name="map">Maps the test's endpoints on the built app.</param>
    public static Task<TestHost> StartAsync(Action<WebApplicationBuilder> configure, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        configure(builder);
        var app = builder.Build();
        map?.Invoke(app);
        return StartAsync(app);
    }

    /// <summary>Starts an app built elsewhere (the ready-to-run server's own <c>ServerApp.Build</c>).</summary>
    /// <param name="app">The app, listening on a 127.0.0.1 URL.</param>
    /// <param name="owned">Disposed after the app stops, or if it fails to start (its temporary database, say).</param>
    public static async Task<TestHost> StartAsync(WebApplication app, IDisposable? owned = null)
    {
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            owned?.Dispose();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestHost(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"), owned);
    }

    /// <summary>Stops the app (at most 20 seconds) and disposes it; a second call does nothing.</summary>
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
        _owned?.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
