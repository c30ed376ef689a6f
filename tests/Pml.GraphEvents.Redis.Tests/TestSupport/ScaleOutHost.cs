using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pml.GraphEvents.AspNetCore;

namespace Pml.GraphEvents.Redis.Tests.TestSupport;

/// <summary>One instance of a scaled-out service: a real Kestrel on 127.0.0.1 serving the stream, with the Redis backplane.</summary>
internal sealed class ScaleOutHost : IAsyncDisposable
{
    public const string Path = "/events/stream";

    private ScaleOutHost(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Broadcaster = app.Services.GetRequiredService<IGraphEventBroadcaster>();
        Backplane = app.Services.GetRequiredService<RedisBackplane>();
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public IGraphEventBroadcaster Broadcaster { get; }

    public RedisBackplane Backplane { get; }

    public HttpClient Client { get; }

    /// <param name="redis">The Redis to use (it may be stopped: see <paramref name="waitUntilStarted"/>).</param>
    /// <param name="streamKey">The stream the instances share.</param>
    /// <param name="events">Broadcaster options.</param>
    /// <param name="backplane">Backplane options, after the test defaults.</param>
    /// <param name="services">More services (a logger provider, a time provider), added first.</param>
    /// <param name="waitUntilStarted">Whether to return only once the backplane knows where the stream is.</param>
    /// <param name="multiplexer">The application's own connection to run the backplane on, instead of its own.</param>
    public static async Task<ScaleOutHost> StartAsync(
        RedisServer redis,
        string streamKey,
        Action<GraphEventsOptions>? events = null,
        Action<RedisBackplaneOptions>? backplane = null,
        Action<IServiceCollection>? services = null,
        bool waitUntilStarted = true,
        StackExchange.Redis.IConnectionMultiplexer? multiplexer = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        void Configure(RedisBackplaneOptions o)
        {
            o.ConnectionString = multiplexer is null ? redis.ConnectionString : null;
            o.StreamKey = streamKey;
            o.PollInterval = TimeSpan.FromMilliseconds(100);
            backplane?.Invoke(o);
        }

        var graphEvents = builder.Services.AddGraphEvents(events);
        _ = multiplexer is null ? graphEvents.AddRedisBackplane(Configure) : graphEvents.AddRedisBackplane(_ => multiplexer, Configure);
        graphEvents.AddGraphEventStream();
        var app = builder.Build();
        app.MapGraphEventStream(Path);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var host = new ScaleOutHost(app, new Uri(address));
        if (waitUntilStarted)
        {
            await host.Backplane.Started.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);
        }

        return host;
    }

    public Task<SseClient> OpenAsync(long? lastEventId = null) =>
        SseClient.OpenAsync(Client, new Uri(BaseAddress, Path), request =>
        {
            if (lastEventId is { } id)
            {
                request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        });

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
    }
}
