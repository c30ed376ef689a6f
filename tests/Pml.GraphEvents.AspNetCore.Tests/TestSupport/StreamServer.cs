using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.AspNetCore.Tests.TestSupport;

/// <summary>A real Kestrel on 127.0.0.1 and a random port, serving MapGraphEventStream("/events/stream").</summary>
internal sealed class StreamServer : IAsyncDisposable
{
    public const string Path = "/events/stream";

    private StreamServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Broadcaster = app.Services.GetRequiredService<IGraphEventBroadcaster>();
        Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1_000, MaxResponseDrainSize = 0 })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public IGraphEventBroadcaster Broadcaster { get; }

    public HttpClient Client { get; }

    public static async Task<StreamServer> StartAsync(
        Action<GraphEventsOptions>? events = null,
        Action<GraphEventStreamOptions>? stream = null,
        Action<WebApplicationBuilder>? configure = null,
        Func<IEndpointConventionBuilder, IEndpointConventionBuilder>? conventions = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        builder.Services.AddGraphEvents(events).AddGraphEventStream(stream);
        var app = builder.Build();
        var endpoint = app.MapGraphEventStream(Path);
        conventions?.Invoke(endpoint);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new StreamServer(app, new Uri(address));
    }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, BaseAddress.Port);

    public Uri StreamUri(string query = "") => new(BaseAddress, Path + query);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
    }
}
