using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.AspNetCore;
using StackExchange.Redis;

namespace Pml.GraphEvents.Redis.Tests.TestSupport;

/// <summary>One instance of a scaled-out service: a <see cref="TestHost"/> serving the stream, with the Redis backplane.</summary>
internal static class ScaleOutHost
{
    public const string Path = TestHost.StreamPath;

    // Resolved once, at start: tests read the backplane's counters after the host (and its container) is disposed.
    private static readonly ConditionalWeakTable<TestHost, RedisBackplane> Backplanes = new();

    /// <param name="redis">The Redis to use (it may be stopped: see <paramref name="waitUntilStarted"/>).</param>
    /// <param name="streamKey">The stream the instances share.</param>
    /// <param name="events">Broadcaster options.</param>
    /// <param name="backplane">Backplane options, after the test defaults.</param>
    /// <param name="services">More services (a logger provider, a time provider), added first.</param>
    /// <param name="waitUntilStarted">Whether to return only once the backplane knows where the stream is.</param>
    /// <param name="multiplexer">The application's own connection to run the backplane on, instead of its own.</param>
    public static async Task<TestHost> StartAsync(
        RedisServer redis,
        string streamKey,
        Action<GraphEventsOptions>? events = null,
        Action<RedisBackplaneOptions>? backplane = null,
        Action<IServiceCollection>? services = null,
        bool waitUntilStarted = true,
        IConnectionMultiplexer? multiplexer = null)
    {
        void Configure(RedisBackplaneOptions o)
        {
            o.ConnectionString = multiplexer is null ? redis.ConnectionString : null;
            o.StreamKey = streamKey;
            o.PollInterval = TimeSpan.FromMilliseconds(100);
            backplane?.Invoke(o);
        }

        var host = await TestHost.StartAsync(
            builder =>
            {
                services?.Invoke(builder.Services);
                var graphEvents = builder.Services.AddGraphEvents(events);
                _ = multiplexer is null ? graphEvents.AddRedisBackplane(Configure) : graphEvents.AddRedisBackplane(_ => multiplexer, Configure);
                graphEvents.AddGraphEventStream();
            },
            app => app.MapGraphEventStream(Path));
        Backplanes.Add(host, host.Services.GetRequiredService<RedisBackplane>());
        if (waitUntilStarted)
        {
            await host.Backplane.Started.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);
        }

        return host;
    }

    extension(TestHost host)
    {
        /// <summary>The instance's backplane.</summary>
        public RedisBackplane Backplane => Backplanes.TryGetValue(host, out var backplane) ? backplane : throw new InvalidOperationException("The host was not started by ScaleOutHost.");

        /// <summary>Opens the instance's stream, resuming after <paramref name="lastEventId"/> when given.</summary>
        /// <remarks>
        /// <paramref name="lastEventId"/> is an offset in the shared stream (what <c>Events.Id</c> reads
        /// from an id); the id sent is the stream's epoch and that offset, as every instance issues it.
        /// </remarks>
        public Task<SseClient> OpenAsync(long? lastEventId = null) =>
            SseClient.OpenAsync(host.Client, host.StreamUri(), request =>
            {
                if (lastEventId is { } offset)
                {
                    var epoch = ((Broadcaster)host.Services.GetRequiredService<IGraphEventBroadcaster>()).Epoch;
                    request.Headers.Add("Last-Event-ID", string.Create(CultureInfo.InvariantCulture, $"{epoch}-{offset}"));
                }
            });
    }
}
