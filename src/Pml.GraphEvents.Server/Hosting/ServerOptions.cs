namespace Pml.GraphEvents.Server;

/// <summary>Settings of the ready-to-run server, bound from the <c>Server</c> section and validated at start-up.</summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Server";

    /// <summary>
    /// The key <c>POST /executions</c> requires in <see cref="ApiKeyHeader"/>, or <see langword="null"/>
    /// for none. Without a key the server refuses to listen on anything but loopback.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>The request header that carries <see cref="ApiKey"/>. Default <c>X-Api-Key</c>.</summary>
    public string ApiKeyHeader { get; set; } = "X-Api-Key";

    /// <summary>The largest <c>POST /executions</c> body; a larger one gets 413. 1 KiB to 64 MiB; default 1 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The SQLite file that keeps the learned graph across restarts. Default <c>pml-graph.db</c> in the working directory.</summary>
    public string DatabasePath { get; set; } = DefaultDatabasePath;

    /// <summary>The default of <see cref="DatabasePath"/>.</summary>
    internal const string DefaultDatabasePath = "pml-graph.db";

    /// <summary>
    /// Where broadcast events are logged for Last-Event-ID replay. <see cref="ServerEventLog.Sqlite"/>
    /// (the default): in the database file, in the same transaction as the graph change that made
    /// them, so replay and the graph survive restarts together (retention: GraphEvents:EventLog).
    /// <see cref="ServerEventLog.Memory"/>: in the replay ring only (GraphEvents:ReplayCapacity), lost
    /// at every restart; for comparison and for hosts that do not need replay across restarts.
    /// </summary>
    public ServerEventLog EventLog { get; set; } = ServerEventLog.Sqlite;

    /// <summary>Whether the built-in simulator replays sample workflow executions. Default <see langword="true"/>.</summary>
    public bool Simulate { get; set; } = true;

    /// <summary>Time between two simulated executions. 10 ms to 1 hour; default 1.5 seconds.</summary>
    public TimeSpan SimulationInterval { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Seed of the simulator's random choices, so a demo run can be repeated; <see langword="null"/> (default) for a fresh one each run.</summary>
    public int? SimulationSeed { get; set; }

    /// <summary>
    /// The most TCP connections the server holds at once; a connection over it is closed as soon
    /// as it is accepted. Every connection holds a file descriptor, and a process that runs out of
    /// them aborts, so <see langword="null"/> (the default) derives the bound from the process's
    /// open-file limit (<c>RLIMIT_NOFILE</c>): that limit minus a quarter of it (at least 512) for
    /// the SQLite file, a Redis backplane, the runtime's own handles; 10,000 when the limit cannot
    /// be read; at most 100,000. 1 to 1,000,000.
    /// </summary>
    public int? MaxConnections { get; set; }

    /// <summary>
    /// How long a connection may stay open without a request in progress, before its first request
    /// or between two: then the server closes it (Kestrel's <c>KeepAliveTimeout</c>). Bounds how long
    /// connections that never send anything hold their slots, also before the server has seen
    /// which protocol (HTTP/1.1 or HTTP/2) a new connection speaks. 100 ms to 1 hour; default 15 seconds.
    /// </summary>
    public TimeSpan IdleConnectionTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a client may take to send a request's headers once it has started (Kestrel's
    /// <c>RequestHeadersTimeout</c>); then the connection is closed. It also bounds a new connection
    /// that has sent part of the HTTP/2 preface, from its first byte. 100 ms to 10 minutes; default 10 seconds.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long reading a whole <c>POST /executions</c> body may take; a body still incomplete then
    /// gets 408 and the connection is closed. Applied as Kestrel's minimum body data rate:
    /// <see cref="MaxBodyBytes"/> per this time, with this time of grace, so every body within the
    /// size limit has at least this long, and one sent fast and then stalled no more (Kestrel's
    /// default 240 bytes/s let a 1 MB body stall for an hour). 2 seconds (Kestrel checks once a
    /// second) to 10 minutes; default 15 seconds.
    /// </summary>
    public TimeSpan BodyReadTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The most bytes all <c>POST /executions</c> bodies being read may hold together (a declared
    /// <c>Content-Length</c> is counted in full up front, a chunked body as it grows). A body that
    /// would take more gets 503 with <c>Retry-After</c>. At least <see cref="MaxBodyBytes"/>, at most
    /// 4 GiB; default 64 MiB.
    /// </summary>
    public long MaxPendingBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The <c>Host</c> names the server answers, separated by <c>;</c> (ASP.NET Core host filtering:
    /// <c>example.com</c>, <c>*.example.com</c>, <c>*</c> for any; no ports); any other gets 400 on
    /// every endpoint. Without an API key, the loopback names (<c>localhost</c>, <c>*.localhost</c>,
    /// <c>127.0.0.1</c>, <c>[::1]</c>) and the hosts of the configured URLs are always allowed,
    /// these names are added to them and <c>*</c> is refused, so that a page whose name rebinds to
    /// 127.0.0.1 cannot feed or read the graph. With a key, <see langword="null"/> (the default) allows any.
    /// </summary>
    public string? AllowedHosts { get; set; }

    /// <summary>
    /// The reverse proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> headers are
    /// believed, separated by <c>;</c>: IP addresses (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/8</c>).
    /// Then the client's address (what the per-address stream limit counts) is the one the proxy
    /// saw. <see langword="null"/> (the default) believes no proxy: the headers are ignored.
    /// </summary>
    public string? TrustedProxies { get; set; }

    /// <summary>
    /// How the console log is written: <c>text</c> (the default, one readable line per message) or
    /// <c>json</c> (one JSON object per line: timestamp, level, category, event id, message and its
    /// named values, for a log collector). Also <c>--log-format json</c> on the command line.
    /// </summary>
    public string LogFormat { get; set; } = LogFormats.Text;

    /// <summary>
    /// Whether <c>GET /metrics</c> serves the server's metrics in Prometheus text format (the
    /// library's meters, ASP.NET Core's, Kestrel's and the runtime's; docs/operations.md). Read-only
    /// and without the API key, like the other read endpoints: keep the listener on a private
    /// interface, or do not forward <c>/metrics</c> at the proxy. Default <see langword="true"/>.
    /// </summary>
    public bool Metrics { get; set; } = true;

    internal List<string> Validate()
    {
        List<string> failures = [];
        if (!LogFormats.IsKnown(LogFormat))
        {
            failures.Add($"{SectionName}:{nameof(LogFormat)} must be {LogFormats.Text} or {LogFormats.Json} (was '{LogFormat}').");
        }

        if (MaxConnections is < 1 or > 1_000_000)
        {
            failures.Add($"{SectionName}:{nameof(MaxConnections)} must be between 1 and 1,000,000, or absent to derive it from the open-file limit (was {MaxConnections:N0}).");
        }

        CheckTime(failures, nameof(IdleConnectionTimeout), IdleConnectionTimeout, TimeSpan.FromHours(1), "1 hour");
        CheckTime(failures, nameof(RequestHeadersTimeout), RequestHeadersTimeout, TimeSpan.FromMinutes(10), "10 minutes");
        if (BodyReadTimeout < TimeSpan.FromSeconds(2) || BodyReadTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{SectionName}:{nameof(BodyReadTimeout)} must be between 2 seconds and 10 minutes (was {BodyReadTimeout}).");
        }

        if (MaxPendingBodyBytes < MaxBodyBytes || MaxPendingBodyBytes > 4L * 1024 * 1024 * 1024)
        {
            failures.Add($"{SectionName}:{nameof(MaxPendingBodyBytes)} must be between {nameof(MaxBodyBytes)} ({MaxBodyBytes:N0}) and 4,294,967,296 (was {MaxPendingBodyBytes:N0}).");
        }

        if (HostNames.Parse(AllowedHosts, out var hosts) is { } hostError)
        {
            failures.Add($"{SectionName}:{nameof(AllowedHosts)}: {hostError}");
        }
        else if (string.IsNullOrWhiteSpace(ApiKey) && hosts.Contains("*"))
        {
            failures.Add($"{SectionName}:{nameof(AllowedHosts)} may not be * without an API key: any page whose name rebinds to 127.0.0.1 could feed the graph.");
        }

        if (ProxyNetworks.Parse(TrustedProxies, out _, out _) is { } proxyError)
        {
            failures.Add($"{SectionName}:{nameof(TrustedProxies)}: {proxyError}");
        }
        if (ApiKey is not null && ApiKey.Trim().Length < 16)
        {
            failures.Add($"{SectionName}:{nameof(ApiKey)} must be at least 16 characters, or absent (was {ApiKey.Trim().Length} characters).");
        }

        if (string.IsNullOrWhiteSpace(ApiKeyHeader))
        {
            failures.Add($"{SectionName}:{nameof(ApiKeyHeader)} must be a header name.");
        }

        if (MaxBodyBytes is < 1024 or > 64 * 1024 * 1024)
        {
            failures.Add($"{SectionName}:{nameof(MaxBodyBytes)} must be between 1,024 and 67,108,864 (was {MaxBodyBytes:N0}).");
        }

        if (string.IsNullOrWhiteSpace(DatabasePath))
        {
            failures.Add($"{SectionName}:{nameof(DatabasePath)} must be a file path.");
        }

        if (!Enum.IsDefined(EventLog))
        {
            failures.Add($"{SectionName}:{nameof(EventLog)} must be {nameof(ServerEventLog.Sqlite)} or {nameof(ServerEventLog.Memory)} (was {EventLog}).");
        }

        if (SimulationInterval < TimeSpan.FromMilliseconds(10) || SimulationInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{SectionName}:{nameof(SimulationInterval)} must be between 10 ms and 1 hour (was {SimulationInterval}).");
        }

        return failures;
    }

    private static void CheckTime(List<string> failures, string name, TimeSpan value, TimeSpan max, string maxText)
    {
        if (value < TimeSpan.FromMilliseconds(100) || value > max)
        {
            failures.Add($"{SectionName}:{name} must be between 100 ms and {maxText} (was {value}).");
        }
    }
}
