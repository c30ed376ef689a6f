using System.Text.RegularExpressions;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>
/// The README's C# blocks, compiled from README.md itself (see <see cref="ReadmeCodeBlocks"/>), and
/// the "In 30 seconds" example run: the README is the example's only copy.
/// </summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void Every_csharp_block_in_the_readme_compiles()
    {
        var blocks = ReadmeCodeBlocks.Read();
        Assert.True(blocks.Count >= 4, $"Expected the README's C# blocks, found {blocks.Count} in {ReadmeCodeBlocks.ReadmePath}.");

        var skipped = blocks.Where(b => b.IsSkipped).ToList();
        foreach (var block in skipped)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"Skipped {block}: {block.Marker}");
        }

        // A short list on purpose: a fragment that cannot compile is a fragment a reader cannot paste.
        Assert.True(skipped.Count <= 1, $"{skipped.Count} README blocks are marked '{ReadmeCodeBlocks.NotCompiledMarker}': {string.Join(", ", skipped)}");

        var broken = blocks.Where(b => !b.IsSkipped).Select(b => ReadmeCodeBlocks.Compile(blocks, b)).Where(c => c.Errors.Count > 0).ToList();
        Assert.True(broken.Count == 0, string.Join("\n\n", broken.Select(c => c.Describe())));
    }

    [Fact]
    public async Task The_readme_example_prints_connected_then_the_edge()
    {
        var blocks = ReadmeCodeBlocks.Read();
        var example = Assert.Single(blocks, b => b.Heading == "In 30 seconds");
        var compiled = ReadmeCodeBlocks.Compile(blocks, example);

        var text = await compiled.RunAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.StartsWith("id: 0\nevent: connected\ndata: {\"client_id\":\"", text, StringComparison.Ordinal);
        Assert.Contains("\n\nid: 1\nevent: edge_created\ndata: {\"from_tool_id\":\"git:status\",\"to_tool_id\":\"git:commit\",\"confidence_score\":0.5,\"timestamp\":\"", text, StringComparison.Ordinal);
        Assert.EndsWith("Z\"}\n\n", text, StringComparison.Ordinal);

        // And exactly what the README says it prints, with "…" and the timestamps standing for any value.
        var shown = string.Join('\n', ReadmeCodeBlocks.ReadFenceAfter(example));
        var pattern = Regex.Escape(shown).Replace("…", "[^\"]+", StringComparison.Ordinal);
        pattern = Regex.Replace(pattern, @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\\\.\d{3}Z", _ => @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z");
        Assert.True(
            Regex.IsMatch(text, "^" + pattern + "\n\n$"),
            $"The output the README shows after {example} is not what the example printed.\n--- README shows ---\n{shown}\n--- printed ---\n{text}");
    }
}
