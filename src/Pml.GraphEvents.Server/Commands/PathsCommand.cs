using System.Globalization;

namespace Pml.GraphEvents.Server;

/// <summary>
/// <c>paths &lt;server-url&gt; &lt;from&gt; &lt;to&gt; [--k 3]</c>: prints the most likely chains of tools
/// from one to another as a table (<c>GET /graph/paths</c>).
/// </summary>
internal static class PathsCommand
{
    public const string Usage = "usage: paths <server-url> <from> <to> [--k 3]   e.g. paths http://127.0.0.1:5080 git:status git:push";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        if (args.Length < 3 || QueryClient.BaseAddress(args[0]) is not { } server)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var query = $"graph/paths?from={Uri.EscapeDataString(args[1])}&to={Uri.EscapeDataString(args[2])}&k={Uri.EscapeDataString(QueryClient.K(args, 3))}";
        if (await QueryClient.GetAsync(server, query, error, cancellationToken) is not { } body)
        {
            return 1;
        }

        await output.WriteLineAsync($"{args[1]} → {args[2]} (graph as of {body.GetProperty("as_of_event_id").GetString() ?? "-"})");
        var paths = body.GetProperty("paths");
        if (paths.GetArrayLength() == 0)
        {
            await output.WriteLineAsync($"  no chain: {args[2]} cannot be reached from {args[1]}");
            return 0;
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {"#",2}  {"probability",11}  chain"));
        var rank = 0;
        foreach (var path in paths.EnumerateArray())
        {
            var chain = string.Join(" → ", path.GetProperty("tool_ids").EnumerateArray().Select(t => t.GetString()));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {++rank,2}  {path.GetProperty("probability").GetDouble(),11:0.000000}  {chain}"));
        }

        return 0;
    }
}
