using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Pml.GraphEvents.AspNetCore;

namespace Pml.GraphEvents.Server;

/// <summary>
/// Builds the ready-to-run server: the graph engine on a SQLite store, the sample catalog and
/// simulator, the event stream, the ingest and read endpoints, and the dashboard page. Program.cs
/// runs it; tests build the same app with their own arguments and services.
/// </summary>
public static class ServerApp
{
    /// <summary>The address the server listens on when no URL is configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Builds the server from command-line <paramref name="args"/> (and appsettings.json, environment variables).</summary>
    /// <param name="args">
    /// Command-line arguments: any configuration key (<c>--urls</c>, <c>--Server:DatabasePath</c>, ...)
    /// and the short forms <c>--simulate</c>, <c>--db</c> and <c>--api-key</c>.
    /// </param>
    /// <param name="configure">Changes services or configuration before the app is built (tests use it).</param>
    /// <exception cref="InvalidOperationException">No API key is configured and a URL is not loopback.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);

        // Added last so they win over appsettings and environment variables, as command lines should.
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--simulate"] = "Server:Simulate",
            ["--db"] = "Server:DatabasePath",
            ["--api-key"] = "Server:ApiKey",
        });

        builder.Services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<ServerOptions>, ServerOptionsValidator>();
        builder.Services.AddSingleton(SampleCatalog.Load());
        builder.Services.AddSingleton<IToolGraphStore>(provider =>
            new SqliteToolGraphStore(Path.GetFullPath(provider.GetRequiredService<IOptions<ServerOptions>>().Value.DatabasePath)));
        builder.Services.AddGraphEvents(builder.Configuration)
            .AddToolGraphEngine(builder.Configuration)
            .AddGraphEventStream();

        // The replay ring lives in memory, so each run starts its ids above the last run's (unless
        // configured): a browser that comes back after a restart with an old Last-Event-ID is told
        // it missed events, instead of resuming from unrelated ones that reuse its id. Start time
        // in ms × 1,000 stays below 2^53, so JavaScript reads ids exactly.
        builder.Services.AddOptions<GraphEventsOptions>().PostConfigure<TimeProvider>((options, time) =>
        {
            if (options.EventIdStart == 0)
            {
                options.EventIdStart = time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000;
            }
        });
        builder.Services.AddHostedService<GraphInitializer>();
        builder.Services.AddHostedService<ConditionalSimulator>();
        builder.Services.AddSingleton<WorkflowSimulator>();
        builder.Services.AddProblemDetails();

        configure?.Invoke(builder);

        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        if (string.IsNullOrWhiteSpace(builder.Configuration[$"{ServerOptions.SectionName}:{nameof(ServerOptions.ApiKey)}"])
            && LoopbackGuard.NonLoopbackUrls(builder.Configuration) is { Count: > 0 } exposed)
        {
            throw new InvalidOperationException(
                $"Refusing to listen on {string.Join(", ", exposed)} without an API key: anyone who can reach it could feed the graph. " +
                "Set Server:ApiKey (or --api-key) to require one, or listen on loopback (--urls http://127.0.0.1:5080).");
        }

        var app = builder.Build();
        app.UseExceptionHandler(); // a failing store answers 500 problem details, not an empty body
        app.UseStatusCodePages();
        app.UseCors();

        // The page is embedded in the assembly: no build step, nothing from a CDN, and it is
        // served the same from any working directory (tests run the server in-process).
        var page = new EmbeddedFileProvider(typeof(ServerApp).Assembly, "wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = page });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = page,
            OnPrepareResponse = static context => context.Context.Response.Headers.CacheControl = "no-cache",
        });

        app.MapGraphEventStream("/events/stream");
        app.MapReadEndpoints();
        app.MapIngest("/executions");
        return app;
    }
}
