using System.Globalization;

namespace Pml.GraphEvents.Server;

/// <summary>
/// <c>next &lt;server-url&gt; &lt;tool&gt; [--k 5]</c>: prints the tools that usually follow a tool, and
/// those that precede it, as tables (<c>GET /graph/next</c> and <c>/graph/previous</c>).
/// </summary>
internal static class NextCommand
{
    public const string Usage = "usage: next <server-url> <tool> [--k 5]   e.g. next http://127.0.0.1:5080 git:status";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        if (args.Length < 2 || QueryClient.BaseAddress(args[0]) is not { } server)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var query = $"?tool={Uri.EscapeDataString(args[1])}&k={Uri.EscapeDataString(QueryClient.K(args, 5))}";
        if (await QueryClient.GetAsync(server, "graph/next" + query, error, cancellationToken) is not { } next
            || await QueryClient.GetAsync(server, "graph/previous" + query, error, cancellationToken) is not { } previous)
        {
            return 1;
        }

        await output.WriteLineAsync($"{args[1]} (graph as of {next.GetProperty("as_of_event_id").GetString() ?? "-"})");
        await WriteAsync(output, "Usually followed by", next.GetProperty("next"), "probability of the step to it");
        await WriteAsync(output, "Usually preceded by", previous.GetProperty("previous"), "probability of the step from it");
        return 0;
    }

    private static async Task WriteAsync(TextWriter output, string title, JsonElement transitions, string meaning)
    {
        await output.WriteLineAsync();
        await output.WriteLineAsync($"{title} ({meaning}):");
        if (transitions.GetArrayLength() == 0)
        {
            await output.WriteLineAsync("  (none)");
            return;
        }

        var rows = transitions.EnumerateArray().Select(t => (
            Tool: t.GetProperty("tool_id").GetString()!,
            Probability: t.GetProperty("probability").GetDouble(),
            Confidence: t.GetProperty("confidence").GetDouble(),
            Observed: t.GetProperty("observed_count").GetInt32())).ToList();
        var width = Math.Max(4, rows.Max(r => r.Tool.Length));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {"#",2}  {"tool".PadRight(width)}  {"probability",11}  {"confidence",10}  {"observed",8}"));
        var rank = 0;
        foreach (var (tool, probability, confidence, observed) in rows)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {++rank,2}  {tool.PadRight(width)}  {probability,11:0.0000}  {confidence,10:0.0000}  {observed,8}"));
        }
    }
}
