using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Pml.GraphEvents.AspNetCore;
using Pml.GraphEvents.Redis;
using Pml.GraphEvents.Sqlite;

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
    /// and the short forms <c>--simulate</c>, <c>--db</c>, <c>--api-key</c> and <c>--log-format</c>.
    /// </param>
    /// <param name="configure">Changes services or configuration before the app is built (tests use it).</param>
    /// <exception cref="InvalidOperationException">No API key is configured and a URL is not loopback.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The application's folder, not the working directory, is the content root: appsettings.json
        // is read from beside the dll however the server is started (dotnet path/to/the.dll).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // The slim builder leaves out reading certificates from configuration: with this,
        // Kestrel:Endpoints:X:Certificate (and Kestrel:Certificates:Default) serve https, where
        // browsers get HTTP/2 by ALPN.
        builder.WebHost.UseKestrelHttpsConfiguration();

        // Added last so they win over appsettings and environment variables, as command lines should.
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--simulate"] = "Server:Simulate",
            ["--db"] = "Server:DatabasePath",
            ["--api-key"] = "Server:ApiKey",
            ["--log-format"] = "Server:LogFormat",
        });
        LogFormats.Configure(builder);

        builder.Services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ServerOptions>>(new OptionsValidator<ServerOptions>(static o => o.Validate()));
        builder.Services.AddSingleton<PendingBodyBudget>();
        builder.Services.AddSingleton<StoreFailureLog>();
        builder.Services.AddSingleton(SampleCatalog.Load());
        ConfigureConnections(builder);
        builder.Services.AddStreamDefaults();
        var events = builder.Services.AddGraphEvents(builder.Configuration).AddToolGraphEngine(builder.Configuration);
        if (ClusterMode.IsOn(builder.Configuration))
        {
            // Many instances, one graph (DESIGN §7): events, executions, the learner's lease and the
            // graph's snapshot live in Redis; no SQLite file is used.
            events.AddRedisBackplane().AddRedisLearner().AddGraphEventStream();

            // The stream is the server's event log here: keep as much as the SQLite log keeps by
            // default (100,000 events, tens of MB in Redis), not the replay ring's 1,024, so that a
            // burst never outruns a replica or a resuming client. GraphEvents:Redis:MaxLength overrides.
            builder.Services.PostConfigure<RedisBackplaneOptions>(static options => options.MaxLength ??= ClusterMode.DefaultMaxLength);
        }
        else
        {
            events.AddSqliteToolGraphStore(ServerOptions.DefaultDatabasePath).AddGraphEventStream();

            // The store (and, by default, the event log) on Server:DatabasePath, read from the options at
            // resolution; the retention options (GraphEvents:EventLog) as AddSqliteToolGraphStore bound them.
            builder.Services.Replace(ServiceDescriptor.Singleton(static provider => new SqliteToolGraphStore(
                Path.GetFullPath(provider.GetRequiredService<IOptions<ServerOptions>>().Value.DatabasePath),
                provider.GetRequiredService<IOptions<SqliteEventLogOptions>>().Value)));
            if (Enum.TryParse<ServerEventLog>(builder.Configuration[$"{ServerOptions.SectionName}:{nameof(ServerOptions.EventLog)}"], ignoreCase: true, out var eventLog)
                && eventLog == ServerEventLog.Memory)
            {
                // The broadcaster's own in-memory log: a new epoch per run, replay from memory only.
                builder.Services.RemoveAll<IGraphEventLog>();
            }
        }

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

        builder.AddTelemetry();
        var app = builder.Build();
        if (!string.IsNullOrWhiteSpace(app.Services.GetRequiredService<IOptions<ServerOptions>>().Value.TrustedProxies))
        {
            // First, so that everything after it (the per-address stream limit) sees the client's address.
            app.UseForwardedHeaders();
        }

        app.UseHostFiltering(); // before anything answers: a rebinding page's Host gets 400 on every endpoint
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
        app.MapQueryEndpoints();
        app.MapIngest("/executions");
        app.MapMetrics();
        return app;
    }

    private static void ConfigureConnections(WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ServerOptions>>((kestrel, server) =>
        {
            var options = server.Value;
            // Every connection holds a file descriptor; past the process's limit the runtime aborts
            // (1,100 idle sockets under a limit of 1,024 did). Kestrel closes a connection over the
            // bound as soon as it is accepted, so the process never runs out.
            kestrel.Limits.MaxConcurrentConnections = options.MaxConnections ?? OpenFileLimit.DefaultMaxConnections(OpenFileLimit.Read());
            // Nothing here upgrades a connection (no WebSockets); an upgraded one would not count above.
            kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
            // Connections that send nothing are closed in bounded time, so their slots come back.
            kestrel.Limits.KeepAliveTimeout = options.IdleConnectionTimeout;
            kestrel.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
            // The body time limit as a rate: the largest body in BodyReadTimeout, never less than
            // BodyReadTimeout of grace. A body of at most MaxBodyBytes that is not in within
            // BodyReadTimeout has fallen under it, and Kestrel fails its read with 408. A 1 MB body
            // sent at once and then stalled no longer passes the default 240 bytes/s for an hour.
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(
                bytesPerSecond: options.MaxBodyBytes / options.BodyReadTimeout.TotalSeconds,
                gracePeriod: options.BodyReadTimeout);

            // Every endpoint that allows HTTP/1.1 and HTTP/2 (Kestrel's default; an endpoint's
            // Protocols setting opts out) speaks both: HTTP/2 by ALPN with TLS, and without TLS
            // when the client opens with the HTTP/2 preface (prior knowledge), which Kestrel
            // alone does not do. Endpoint defaults cover --urls and Kestrel:Endpoints alike.
            kestrel.ConfigureEndpointDefaults(listen => Http2PriorKnowledge.Use(listen, options));
        });

        builder.Services.AddHostFiltering(_ => { });
        builder.Services.AddOptions<HostFilteringOptions>().Configure<IOptions<ServerOptions>>((filtering, server) =>
        {
            filtering.AllowedHosts = HostNames.Allowed(server.Value, LoopbackGuard.ConfiguredUrls(builder.Configuration));
        });

        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ServerOptions>>((forwarded, server) =>
        {
            // Only the configured proxies: the defaults (loopback) are cleared, so a client cannot
            // claim another address unless it is one of them.
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            ProxyNetworks.Parse(server.Value.TrustedProxies, out var proxies, out var networks);
            foreach (var proxy in proxies)
            {
                forwarded.KnownProxies.Add(proxy);
            }

            foreach (var network in networks)
            {
                forwarded.KnownIPNetworks.Add(network);
            }
        });
    }
}
