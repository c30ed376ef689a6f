using System.Reflection;

namespace Pml.GraphEvents.Server;

/// <summary>
/// What the first arguments ask for, before anything else runs: help, the version, or a word that
/// is no sub-command. Everything else is the server's own arguments (configuration keys).
/// </summary>
internal static class ServerCommandLine
{
    /// <summary>The name the .NET tool installs (<c>ToolCommandName</c>); from a clone it is <c>dotnet run --project src/Pml.GraphEvents.Server --</c>.</summary>
    public const string ToolName = "pml-graph-events";

    public const string Usage = $"""
        {ToolName}: the Pml.GraphEvents server and its command-line clients.

        usage:
          {ToolName} [--urls http://127.0.0.1:5080] [--db pml-graph.db] [--api-key KEY]
                           [--simulate false] [--log-format json] [--Section:Key value ...]
              runs the server: the dashboard at the URL, the SSE stream at /events/stream,
              POST /executions; the learned graph is kept in --db (default: pml-graph.db in
              the working directory). Any configuration key works as --Section:Key value, and as
              an environment variable (Server__ApiKey=...).
          {ToolName} tail <stream-url> [--types edge_created,metrics_updated]
              prints a stream's events as they arrive
          {ToolName} next <server-url> <tool> [--k 5]
              the tools most likely to run after <tool>
          {ToolName} paths <server-url> <from> <to> [--k 3]
              the most likely chains of tools from <from> to <to>
          {ToolName} --help | --version
        """;

    /// <summary>
    /// The exit code when <paramref name="args"/> asks for help or the version (written to
    /// <paramref name="output"/>) or starts with a word that is no sub-command (an error, so that a
    /// mistyped <c>tial</c> does not quietly start a server); <see langword="null"/> when the
    /// arguments are the server's.
    /// </summary>
    public static int? TryRun(string[] args, TextWriter output, TextWriter error)
    {
        if (args is ["help", ..] || args.Any(static a => a is "--help" or "-h" or "-?"))
        {
            output.WriteLine(Usage);
            return 0;
        }

        if (args.Contains("--version"))
        {
            output.WriteLine($"{ToolName} {Version}");
            return 0;
        }

        // The configuration reads "--key value", "-key" mapped switches, "/key value" and
        // "key=value"; it skips any other word without a sound. A first argument of that kind is
        // a sub-command the user meant, mistyped or from a newer version.
        if (args is [var first, ..] && !first.StartsWith('-') && !first.StartsWith('/') && !first.Contains('=', StringComparison.Ordinal))
        {
            error.WriteLine($"{ToolName}: unknown command '{first}'.");
            error.WriteLine(Usage);
            return 2;
        }

        return null;
    }

    /// <summary>The informational version (the package version, and the commit when the build knows it).</summary>
    public static string Version { get; } =
        typeof(ServerCommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ServerCommandLine).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
