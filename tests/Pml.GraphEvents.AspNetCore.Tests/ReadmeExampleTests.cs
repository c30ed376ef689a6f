using System.Text.RegularExpressions;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>
/// The C# blocks of the README and of docs/*.md, compiled from the markdown itself (see
/// <see cref="ReadmeCodeBlocks"/>), and the README's "In 30 seconds" example run: the docs are their
/// examples' only copy.
/// </summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void Every_csharp_block_in_the_readme_compiles()
    {
        var blocks = ReadmeCodeBlocks.Read();
        Assert.True(blocks.Count >= 4, $"Expected the README's C# blocks, found {blocks.Count} in {ReadmeCodeBlocks.ReadmePath}.");

        AssertEveryBlockCompiles("README.md", blocks);
    }

    /// <summary>Every docs/*.md file, so a file with a broken block fails on its own, named.</summary>
    public static TheoryData<string> DocFiles() => [.. ReadmeCodeBlocks.DocFiles()];

    [Fact]
    public void The_docs_are_copied_beside_the_tests()
    {
        // Guards the theory below against passing on no files: these docs hold C# blocks.
        Assert.Superset(new HashSet<string> { "docs/events.md", "docs/graph-engine.md", "docs/operations.md" }, ReadmeCodeBlocks.DocFiles().ToHashSet());
    }

    [Theory]
    [MemberData(nameof(DocFiles))]
    public void Every_csharp_block_in_the_docs_compiles(string file)
    {
        var blocks = ReadmeCodeBlocks.Read(file);
        AssertEveryBlockCompiles(file, blocks);
    }

    [Fact]
    public async Task The_readme_example_prints_connected_then_the_edge()
    {
        var blocks = ReadmeCodeBlocks.Read();
        var example = Assert.Single(blocks, b => b.Heading == "In 30 seconds");
        var compiled = ReadmeCodeBlocks.Compile(blocks, example);

        var text = await compiled.RunAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Matches("^id: [0-9a-z]{10}-0\nevent: connected\ndata: \\{\"client_id\":\"", text);
        Assert.Contains("-1\nevent: edge_created\ndata: {\"from_tool_id\":\"git:status\",\"to_tool_id\":\"git:commit\",\"confidence_score\":0.5,\"timestamp\":\"", text, StringComparison.Ordinal);
        Assert.EndsWith("Z\"}\n\n", text, StringComparison.Ordinal);

        // And exactly what the README says it prints, with "…" and the timestamps standing for any value.
        var shown = string.Join('\n', ReadmeCodeBlocks.ReadFenceAfter(example));
        var pattern = Regex.Escape(shown).Replace("…", "[^\"]+", StringComparison.Ordinal);
        pattern = Regex.Replace(pattern, @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\\\.\d{3}Z", _ => @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z");
        Assert.True(
            Regex.IsMatch(text, "^" + pattern + "\n\n$"),
            $"The output the README shows after {example} is not what the example printed.\n--- README shows ---\n{shown}\n--- printed ---\n{text}");
    }

    private static void AssertEveryBlockCompiles(string file, IReadOnlyList<ReadmeBlock> blocks)
    {
        var skipped = blocks.Where(b => b.IsSkipped).ToList();
        foreach (var block in skipped)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"Skipped {block}: {block.Marker}");
        }

        // A short list on purpose: a fragment that cannot compile is a fragment a reader cannot paste.
        Assert.True(skipped.Count <= 1, $"{skipped.Count} blocks of {file} are marked '{ReadmeCodeBlocks.NotCompiledMarker}': {string.Join(", ", skipped)}");

        var broken = blocks.Where(b => !b.IsSkipped).Select(b => ReadmeCodeBlocks.Compile(blocks, b)).Where(c => c.Errors.Count > 0).ToList();
        Assert.True(broken.Count == 0, string.Join("\n\n", broken.Select(c => c.Describe())));
    }
}
