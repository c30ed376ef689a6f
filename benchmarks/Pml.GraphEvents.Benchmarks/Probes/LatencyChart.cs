using System.Globalization;
using System.Text;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// Draws p50 and p99 latency against subscriber count (both axes logarithmic) as a small
/// self-contained SVG, so the chart comes from the run's own numbers with no plotting dependency.
/// </summary>
internal static class LatencyChart
{
    private const int Width = 760;
    private const int Height = 440;
    private const int Left = 70;
    private const int Right = 230;
    private const int Top = 40;
    private const int Bottom = 50;
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

    public static void Write(string path, IReadOnlyList<(string Candidate, int Subscribers, LatencySummary Summary)> rows)
    {
        var valid = rows.Where(r => r.Summary.Deliveries > 0 && r.Summary.P50 > 0).ToList();
        var xs = valid.Select(r => (double)r.Subscribers).Distinct().Order().ToList();
        var minX = Math.Log10(xs.Min());
        var maxX = Math.Max(minX + 1, Math.Log10(xs.Max()));
        var minY = Math.Floor(Math.Log10(valid.Min(r => r.Summary.P50)));
        var maxY = Math.Ceiling(Math.Log10(valid.Max(r => r.Summary.P99)));
        double X(double subscribers) => Left + ((Math.Log10(subscribers) - minX) / (maxX - minX) * (Width - Left - Right));
        double Y(double micros) => Height - Bottom - ((Math.Log10(micros) - minY) / (maxY - minY) * (Height - Top - Bottom));

        var svg = new StringBuilder();
        svg.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append(F($"<text x=\"{Left}\" y=\"22\" font-size=\"15\">Publish→read latency vs subscribers (in process, log–log)</text>\n"));
        for (var decade = minY; decade <= maxY; decade++)
        {
            var y = Y(Math.Pow(10, decade));
            svg.Append(F($"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Width - Right}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>"));
            svg.Append(F($"<text x=\"{Left - 8}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Label(Math.Pow(10, decade))}</text>\n"));
        }

        foreach (var x in xs)
        {
            svg.Append(F($"<line x1=\"{X(x):F1}\" y1=\"{Top}\" x2=\"{X(x):F1}\" y2=\"{Height - Bottom}\" stroke=\"#eee\"/>"));
            svg.Append(F($"<text x=\"{X(x):F1}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{x:N0}</text>\n"));
        }

        svg.Append(F($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">subscribers</text>\n"));
        var candidates = valid.Select(r => r.Candidate).Distinct().ToList();
        for (var c = 0; c < candidates.Count; c++)
        {
            var colour = Colours[c % Colours.Length];
            var points = valid.Where(r => r.Candidate == candidates[c]).OrderBy(r => r.Subscribers).ToList();
            svg.Append(F($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(' ', points.Select(p => F($"{X(p.Subscribers):F1},{Y(p.Summary.P99):F1}")))}\"/>\n"));
            svg.Append(F($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\" points=\"{string.Join(' ', points.Select(p => F($"{X(p.Subscribers):F1},{Y(p.Summary.P50):F1}")))}\"/>\n"));
            var legendY = Top + 20 + (c * 22);
            svg.Append(F($"<line x1=\"{Width - Right + 15}\" y1=\"{legendY}\" x2=\"{Width - Right + 40}\" y2=\"{legendY}\" stroke=\"{colour}\" stroke-width=\"2\"/>"));
            svg.Append(F($"<text x=\"{Width - Right + 46}\" y=\"{legendY + 4}\">{Escape(candidates[c])}</text>\n"));
        }

        var noteY = Top + 20 + (candidates.Count * 22) + 10;
        svg.Append(F($"<text x=\"{Width - Right + 15}\" y=\"{noteY}\">solid: p99, dashed: p50</text>\n"));
        svg.Append("</svg>\n");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, svg.ToString());
    }

    private static string Label(double micros) => micros >= 1_000 ? F($"{micros / 1_000:G3} ms") : F($"{micros:G3} µs");

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
