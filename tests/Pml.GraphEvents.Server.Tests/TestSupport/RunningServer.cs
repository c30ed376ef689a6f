using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.Server.Tests.TestSupport;

/// <summary>
/// The real server (the app <see cref="ServerApp.Build"/> makes, as Program.cs runs it) on a real
/// Kestrel socket at 127.0.0.1, with its own SQLite file and the simulator off unless asked.
/// </summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private bool _stopped;

    private RunningServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public IServiceProvider Services => App.Services;

    /// <summary>Starts a server; <paramref name="port"/> 0 picks a free one.</summary>
    public static async Task<RunningServer> StartAsync(
        string databasePath,
        int port = 0,
        IReadOnlyDictionary<string, string>? settings = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        List<string> args = ["--urls", $"http://127.0.0.1:{port}", "--db", databasePath, "--simulate", "false"];
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            args.Add($"--{key}={value}");
        }

        var app = ServerApp.Build([.. args], builder =>
        {
            builder.Logging.ClearProviders();
            configure?.Invoke(builder);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningServer(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"));
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static StringContent Json(string json) => new(json, new MediaTypeHeaderValue("application/json"));

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
