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
    public string DatabasePath { get; set; } = "pml-graph.db";

    /// <summary>Whether the built-in simulator replays sample workflow executions. Default <see langword="true"/>.</summary>
    public bool Simulate { get; set; } = true;

    /// <summary>Time between two simulated executions. 10 ms to 1 hour; default 1.5 seconds.</summary>
    public TimeSpan SimulationInterval { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Seed of the simulator's random choices, so a demo run can be repeated; <see langword="null"/> (default) for a fresh one each run.</summary>
    public int? SimulationSeed { get; set; }

    internal List<string> Validate()
    {
        List<string> failures = [];
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

        if (SimulationInterval < TimeSpan.FromMilliseconds(10) || SimulationInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{SectionName}:{nameof(SimulationInterval)} must be between 10 ms and 1 hour (was {SimulationInterval}).");
        }

        return failures;
    }
}
