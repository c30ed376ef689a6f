using System.Globalization;
using System.Text;

namespace Pml.GraphEvents.Cluster.Tests.TestSupport;

/// <summary>
/// One instance's <c>GET /graph</c>, in a form two instances' answers can be compared with:
/// nodes sorted by id, edges by (from, to), metrics as sent; <c>version</c> is left out (it counts
/// one process's snapshots, so it differs between instances by design).
/// </summary>
internal sealed record GraphView(string? AsOfEventId, string Nodes, string Edges, string Metrics, IReadOnlyDictionary<string, int> ObservedCounts)
{
    public static GraphView Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var nodes = root.GetProperty("nodes").EnumerateArray()
            .Select(n => (Key: n.GetProperty("id").GetString()!, Text: n.GetRawText()))
            .OrderBy(n => n.Key, StringComparer.Ordinal);
        var edges = root.GetProperty("edges").EnumerateArray()
            .Select(e => (Key: EdgeKey(e.GetProperty("from").GetString()!, e.GetProperty("to").GetString()!), Element: e))
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ToList();
        return new GraphView(
            root.GetProperty("as_of_event_id").GetString(),
            Join(nodes.Select(n => n.Text)),
            Join(edges.Select(e => e.Element.GetRawText())),
            root.GetProperty("metrics").GetRawText(),
            edges.ToDictionary(e => e.Key, e => e.Element.GetProperty("observed_count").GetInt32()));
    }

    public static string EdgeKey(string from, string to) => $"{from}>{to}";

    public int Count(string from, string to) => ObservedCounts.TryGetValue(EdgeKey(from, to), out var count) ? count : 0;

    /// <summary>Asserts that <paramref name="other"/> is the same graph at the same event, naming the first difference.</summary>
    public void AssertSameAs(GraphView other, string names)
    {
        Assert.True(AsOfEventId == other.AsOfEventId, $"{names}: as_of_event_id {AsOfEventId} vs {other.AsOfEventId}");
        Assert.True(Edges == other.Edges, $"{names}: edges differ at {Diff(Edges, other.Edges)}");
        Assert.True(Nodes == other.Nodes, $"{names}: nodes differ at {Diff(Nodes, other.Nodes)}");
        Assert.True(Metrics == other.Metrics, $"{names}: metrics differ at {Diff(Metrics, other.Metrics)}");
    }

    private static string Join(IEnumerable<string> items) => new StringBuilder().AppendJoin('\n', items).ToString();

    private static string Diff(string a, string b)
    {
        var at = 0;
        while (at < a.Length && at < b.Length && a[at] == b[at])
        {
            at++;
        }

        static string Around(string s, int at) => s.Substring(Math.Max(0, at - 80), Math.Min(s.Length, at + 80) - Math.Max(0, at - 80));
        return string.Create(CultureInfo.InvariantCulture, $"char {at}: '…{Around(a, at)}…' vs '…{Around(b, at)}…'");
    }
}
