using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Pml.GraphEvents.Server;

/// <summary>
/// The server's metrics and traces. Metrics: the library's meters (<c>Pml.GraphEvents</c>, and
/// <c>Pml.GraphEvents.Redis</c> in cluster mode), ASP.NET Core's and Kestrel's, and the runtime's,
/// served on <c>GET /metrics</c> in Prometheus text format (<c>Server:Metrics</c>, default on) and
/// pushed over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Traces, pushed over OTLP when
/// that variable is set: each request's span (continuing the caller's <c>traceparent</c>) with the
/// library's spans under it (learn, publish, and the Redis appends and reads). Only the server
/// references OpenTelemetry: the libraries report on plain <see cref="System.Diagnostics.Metrics.Meter"/>s
/// and <see cref="System.Diagnostics.ActivitySource"/>s that any listener can take.
/// </summary>
internal static class Telemetry
{
    /// <summary>The path Prometheus scrapes.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The standard OpenTelemetry variable that turns the OTLP exporter on.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    // The library's meters by name: their classes are internal to the libraries, and the names are
    // part of the documented surface (docs/operations.md), so they are spelled here.
    private static readonly string[] Meters =
    [
        "Pml.GraphEvents",
        "Pml.GraphEvents.Redis",
        "Microsoft.AspNetCore.Hosting", // http.server.request.duration, http.server.active_requests
        "Microsoft.AspNetCore.Server.Kestrel", // connections, queued, TLS handshakes
    ];

    // The library's activity sources by name (docs/operations.md, "Traces").
    private static readonly string[] Sources =
    [
        "Pml.GraphEvents",
        "Pml.GraphEvents.Redis",
    ];

    private static string MetricsKey => $"{ServerOptions.SectionName}:{nameof(ServerOptions.Metrics)}";

    /// <summary>Registers the meter provider and its exporters, read from the configuration as it is before the app is built.</summary>
    /// <param name="builder">The server's builder, after every other configuration source and the tests' changes.</param>
    public static void AddTelemetry(this WebApplicationBuilder builder)
    {
        var scrape = ScrapeEnabled(builder.Configuration);
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        if (!scrape && !otlp)
        {
            // No listener at all: the library's delivery-latency histogram stays disabled, so the
            // stream writer does not even read the clock for it (GraphEventsMetrics.LatencyEnabled).
            return;
        }

        var telemetry = builder.Services.AddOpenTelemetry();
        if (otlp)
        {
            // Traces only go out over OTLP (there is nothing to scrape): without the endpoint no
            // listener takes the sources, and the library makes no span at all.
            telemetry.WithTracing(tracing => tracing
                .AddSource(Sources)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                {
                    // A scrape every 15 s and a probe every few seconds would bury the executions'
                    // traces; they are counted in the request metrics all the same.
                    aspNetCore.Filter = static context =>
                        !context.Request.Path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase)
                        && !context.Request.Path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase);
                })
                .AddOtlpExporter());
        }

        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(Meters).AddRuntimeInstrumentation();
            if (scrape)
            {
                // Pull: nothing is collected between scrapes; the observable counters read the
                // broadcaster's own tallies only when Prometheus asks.
                metrics.AddPrometheusExporter();
            }

            if (otlp)
            {
                // Push, every OTEL_METRIC_EXPORT_INTERVAL (60 s by default); endpoint, protocol and
                // headers come from the standard OTEL_EXPORTER_OTLP_* variables.
                metrics.AddOtlpExporter();
            }
        });
    }

    /// <summary>Maps <c>GET /metrics</c> when <c>Server:Metrics</c> is on.</summary>
    /// <param name="app">The built server.</param>
    public static void MapMetrics(this WebApplication app)
    {
        if (ScrapeEnabled(app.Configuration))
        {
            // Read-only, like /graph and the stream: no API key (that guards only what writes),
            // but behind host filtering like every endpoint. An operator keeps it private by
            // listening on a private interface or by not forwarding /metrics at the proxy.
            app.MapPrometheusScrapingEndpoint(MetricsPath);
        }
    }

    private static bool ScrapeEnabled(IConfiguration configuration)
    {
        var value = configuration[MetricsKey];
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        // Validated here, at start-up, with a message naming the key (the options binder's own would
        // only come later, at the first resolution of ServerOptions).
        return bool.TryParse(value.Trim(), out var on)
            ? on
            : throw new InvalidOperationException($"{MetricsKey} must be true or false (was '{value}').");
    }
}
