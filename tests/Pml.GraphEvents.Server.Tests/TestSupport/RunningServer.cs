using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.Server.Tests.TestSupport;

/// <summary>
/// The real server (the app <see cref="ServerApp.Build"/> makes, as Program.cs runs it) on a
/// <see cref="TestHost"/>: a real Kestrel socket at 127.0.0.1, its own SQLite file, the simulator off
/// unless asked. Compiled into the server, reliability and browser tests.
/// </summary>
internal static class RunningServer
{
    public const string StreamPath = TestHost.StreamPath;

    /// <summary>Starts a server.</summary>
    /// <param name="databasePath">Its SQLite file; <see langword="null"/>: a temporary one, deleted when the host stops.</param>
    /// <param name="port">0 picks a free one.</param>
    /// <param name="settings">Configuration keys, given as command-line arguments (<c>--key=value</c>).</param>
    /// <param name="configure">Changes services or configuration before the app is built.</param>
    /// <param name="logger">Receives every log entry, from Debug up; without it nothing is logged.</param>
    public static async Task<TestHost> StartAsync(
        string? databasePath = null,
        int port = 0,
        IReadOnlyDictionary<string, string>? settings = null,
        Action<WebApplicationBuilder>? configure = null,
        ILoggerProvider? logger = null)
    {
        var own = databasePath is null ? new TempDatabase() : null;
        List<string> args = ["--urls", $"http://127.0.0.1:{port}", "--db", databasePath ?? own!.Path, "--simulate", "false"];
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            args.Add($"--{key}={value}");
        }

        WebApplication app;
        try
        {
            app = ServerApp.Build([.. args], builder =>
            {
                builder.Logging.ClearProviders();
                if (logger is not null)
                {
                    builder.Logging.AddProvider(logger);
                    builder.Logging.SetMinimumLevel(LogLevel.Debug);
                }

                configure?.Invoke(builder);
            });
        }
        catch
        {
            own?.Dispose();
            throw;
        }

        return await TestHost.StartAsync(app, own);
    }

    public static StringContent Json(string json) => new(json, new MediaTypeHeaderValue("application/json"));

    extension(TestHost server)
    {
        /// <summary>Whether the server still answers an ordinary request: the check after every attack.</summary>
        public async Task AssertHealthyAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(Eventually.Deadline);
            using var response = await server.Client.GetAsync("healthz", timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        /// <summary>
        /// Publishes a marker and returns its id once an in-process subscriber has received it. It
        /// queues behind everything published before it (the server's own start-up events, which the
        /// pump may broadcast after StartAsync returned), so by then all of that has been broadcast
        /// and the next event published gets the marker's id + 1.
        /// </summary>
        public async Task<string> BroadcastMarkerAsync()
        {
            using var subscription = server.Broadcaster.Subscribe();
            await server.Broadcaster.PublishAsync(new EdgeCreatedEvent("marker", "x", 0.5, DateTimeOffset.UnixEpoch), TestContext.Current.CancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(Eventually.Deadline);
            await foreach (var frame in subscription.ReadAllAsync(timeout.Token))
            {
                if (frame.Event is EdgeCreatedEvent { FromToolId: "marker" })
                {
                    return frame.Id!;
                }
            }

            throw new InvalidOperationException($"The subscription ended ({subscription.EndReason}) before the marker arrived.");
        }
    }
}
