using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>
/// The ```csharp blocks of the repository's README.md and docs/*.md, compiled with Roslyn against
/// this test project's references, so that the docs are their examples' only copy and cannot drift.
/// </summary>
/// <remarks>
/// A block of top-level statements is wrapped into <c>ReadmeBlock.Run(string[] args, CancellationToken cancellationToken)</c>
/// with the implicit usings of a web project (<c>dotnet new web</c>); its own <c>using</c> directives and
/// any type declarations stay at file level. Markers in an HTML comment on the line before the fence:
/// <c>&lt;!-- not compiled: reason --&gt;</c> skips a deliberate fragment, and
/// <c>&lt;!-- compiled after the block above --&gt;</c> compiles a block as the continuation of the one
/// before it. Every line carries a <c>#line</c> directive, so diagnostics name the document's own
/// file and line (<c>docs/events.md(41,9): error CS0103: ...</c>).
/// The System.Text.Json source generator runs on every block, as in a project, so a block may declare
/// its own <c>JsonSerializerContext</c> (the build copies the generator beside the tests).
/// </remarks>
internal static class ReadmeCodeBlocks
{
    public const string NotCompiledMarker = "not compiled:";
    public const string ContinuationMarker = "compiled after the block above";

    // What a `dotnet new web` project has as implicit global usings: a reader pastes a block there.
    private static readonly string[] ImplicitUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Net.Http.Json",
        "System.Threading", "System.Threading.Tasks", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Http", "Microsoft.AspNetCore.Routing", "Microsoft.Extensions.Configuration",
        "Microsoft.Extensions.DependencyInjection", "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging",
    ];

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);

    private static readonly Lazy<ISourceGenerator[]> Generators = new(LoadGenerators);

    public static string ReadmePath => PathOf("README.md");

    /// <summary>The docs/*.md files copied beside the tests, as paths relative to the repository root.</summary>
    public static IReadOnlyList<string> DocFiles() =>
        [.. Directory.GetFiles(PathOf("docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    /// <summary>Where <paramref name="file"/> (relative to the repository root) was copied beside the tests.</summary>
    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, file);

    /// <summary>Every ```csharp block of <paramref name="file"/> (relative to the repository root), in order, with the heading it sits under.</summary>
    public static IReadOnlyList<ReadmeBlock> Read(string file = "README.md")
    {
        var lines = File.ReadAllLines(PathOf(file));
        var blocks = new List<ReadmeBlock>();
        string heading = "";
        string? marker = null;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                heading = line[3..].Trim();
            }

            if (!line.StartsWith("```", StringComparison.Ordinal))
            {
                if (line.Trim().Length > 0)
                {
                    var trimmed = line.Trim();
                    marker = trimmed.StartsWith("<!--", StringComparison.Ordinal) && trimmed.EndsWith("-->", StringComparison.Ordinal)
                        ? trimmed[4..^3].Trim()
                        : null;
                }

                continue;
            }

            bool isCSharp = line.Trim() == "```csharp";
            int fenceLine = i + 1; // 1-based
            var code = new List<ReadmeLine>();
            for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++)
            {
                code.Add(new ReadmeLine(i + 1, lines[i]));
            }

            if (isCSharp)
            {
                blocks.Add(new ReadmeBlock(file, fenceLine, heading, marker, code));
            }

            marker = null;
        }

        return blocks;
    }

    /// <summary>The lines of the fenced block (any language) that follows <paramref name="block"/>: the output it shows.</summary>
    public static IReadOnlyList<string> ReadFenceAfter(ReadmeBlock block)
    {
        var lines = File.ReadAllLines(PathOf(block.File));
        int i = (block.Lines.Count == 0 ? block.FenceLine : block.Lines[^1].Line) + 1; // 0-based index after the closing fence
        while (i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal))
        {
            i++;
        }

        var output = new List<string>();
        for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++)
        {
            output.Add(lines[i]);
        }

        return output;
    }

    /// <summary>Compiles <paramref name="block"/> (after the block before it when it is marked a continuation).</summary>
    public static CompiledBlock Compile(IReadOnlyList<ReadmeBlock> blocks, ReadmeBlock block)
    {
        var lines = new List<ReadmeLine>();
        int index = IndexOf(blocks, block);
        if (block.Marker == ContinuationMarker && index > 0)
        {
            lines.AddRange(blocks[index - 1].Lines);
        }

        lines.AddRange(block.Lines);
        var source = Wrap(block.File, lines);
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest);
        var tree = CSharpSyntaxTree.ParseText(source, parseOptions, path: block.File, encoding: Encoding.UTF8);
        var compilation = CSharpCompilation.Create(
            $"ReadmeBlock_{Path.GetFileNameWithoutExtension(block.File)}_line{block.FenceLine}",
            [tree],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create(Generators.Value, parseOptions: parseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var generatorDiagnostics);

        using var image = new MemoryStream();
        var result = generated.Emit(image);
        var errors = generatorDiagnostics.Concat(result.Diagnostics).Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        return new CompiledBlock(block, source, errors, result.Success ? image.ToArray() : null);
    }

    private static int IndexOf(IReadOnlyList<ReadmeBlock> blocks, ReadmeBlock block)
    {
        for (int i = 0; i < blocks.Count; i++)
        {
            if (ReferenceEquals(blocks[i], block))
            {
                return i;
            }
        }

        throw new ArgumentException("The block is not one of the document's blocks.", nameof(block));
    }

    private static string Wrap(string file, List<ReadmeLine> lines)
    {
        // Parse the block alone to split it: using directives and type declarations stay at file level,
        // top-level statements go into Run. Each piece is re-emitted under a #line of its README line.
        var text = string.Join('\n', lines.Select(l => l.Text));
        var root = CSharpSyntaxTree.ParseText(text, new CSharpParseOptions(LanguageVersion.Latest)).GetCompilationUnitRoot();
        int ReadmeLineOf(SyntaxNode node) => lines[node.GetLocation().GetLineSpan().StartLinePosition.Line].Line;

        var source = new StringBuilder();
        foreach (var u in ImplicitUsings)
        {
            source.Append("global using global::").Append(u).Append(";\n");
        }

        foreach (var u in root.Usings)
        {
            source.Append("#line ").Append(ReadmeLineOf(u)).Append(" \"").Append(file).Append("\"\n").Append(u.ToString()).Append('\n');
        }

        source.Append("#line default\n");
        source.Append("public static class ReadmeBlock\n{\n");
        // Shadows System.Console inside the block (a nested type wins name lookup), so a test reads
        // what the example prints without redirecting the process's console under parallel tests.
        source.Append("    public static class Console\n    {\n");
        source.Append("        public static readonly global::System.IO.StringWriter Out = new();\n");
        source.Append("        public static void Write(string? value) => Out.Write(value);\n");
        source.Append("        public static void WriteLine(string? value) => Out.WriteLine(value);\n    }\n");
        source.Append("    public static async global::System.Threading.Tasks.Task Run(string[] args, global::System.Threading.CancellationToken cancellationToken)\n    {\n");
        source.Append("        await global::System.Threading.Tasks.Task.CompletedTask;\n");
        foreach (var statement in root.Members.OfType<GlobalStatementSyntax>())
        {
            AppendMapped(source, file, statement.Statement.ToString(), lines, statement.GetLocation().GetLineSpan().StartLinePosition.Line);
        }

        source.Append("#line default\n    }\n}\n");
        foreach (var declaration in root.Members.Where(m => m is not GlobalStatementSyntax))
        {
            AppendMapped(source, file, declaration.ToString(), lines, declaration.GetLocation().GetLineSpan().StartLinePosition.Line);
        }

        return source.ToString();
    }

    // One #line per source line: a continuation block's lines are not contiguous in the document.
    private static void AppendMapped(StringBuilder source, string file, string text, List<ReadmeLine> lines, int firstIndex)
    {
        var split = text.Split('\n');
        for (int j = 0; j < split.Length; j++)
        {
            source.Append("#line ").Append(lines[firstIndex + j].Line).Append(" \"").Append(file).Append("\"\n").Append(split[j].TrimEnd('\r')).Append('\n');
        }
    }

    private static ISourceGenerator[] LoadGenerators()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "analyzers", "System.Text.Json.SourceGeneration.dll");
        Assert.True(File.Exists(path), $"{path} is missing: the test project's build copies it there.");
        return [.. Assembly.LoadFrom(path).GetTypes()
            .Where(t => !t.IsAbstract && typeof(IIncrementalGenerator).IsAssignableFrom(t) && t.GetCustomAttribute<GeneratorAttribute>() is not null)
            .Select(t => ((IIncrementalGenerator)Activator.CreateInstance(t)!).AsSourceGenerator())];
    }

    private static List<MetadataReference> LoadReferences()
    {
        // The runtime's trusted platform assemblies: the shared frameworks (this project references
        // Microsoft.AspNetCore.App) and the assemblies of this app's deps.json, Pml.GraphEvents* among them.
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).ToList();
        paths.Add(typeof(GraphEventStreamOptions).Assembly.Location);
        paths.Add(typeof(IGraphEventBroadcaster).Assembly.Location);

        // The docs' blocks use every package: scale-out (operations.md), the SQLite store and likely chains (graph-engine.md).
        paths.Add(typeof(Pml.GraphEvents.Redis.RedisBackplaneOptions).Assembly.Location);
        paths.Add(typeof(Pml.GraphEvents.Sqlite.SqliteToolGraphStore).Assembly.Location);
        paths.Add(typeof(Pml.GraphEvents.QuikGraph.ToolChain).Assembly.Location);
        return paths
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .DistinctBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();
    }
}

internal sealed record ReadmeLine(int Line, string Text);

/// <summary>One ```csharp block of <paramref name="File"/> (README.md or docs/x.md), from its fence on line <paramref name="FenceLine"/>.</summary>
internal sealed record ReadmeBlock(string File, int FenceLine, string Heading, string? Marker, IReadOnlyList<ReadmeLine> Lines)
{
    public bool IsSkipped => Marker?.StartsWith(ReadmeCodeBlocks.NotCompiledMarker, StringComparison.Ordinal) == true;

    public override string ToString() => $"{File} line {FenceLine} (\"{Heading}\")";
}

internal sealed record CompiledBlock(ReadmeBlock Block, string Source, IReadOnlyList<Diagnostic> Errors, byte[]? Image)
{
    public string Describe() =>
        $"{Block} does not compile:\n" + string.Join('\n', Errors.Select(e => "  " + e.ToString()));

    /// <summary>Loads the block into its own collectible context and runs it; returns what it printed.</summary>
    public async Task<string> RunAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Assert.True(Image is not null, Describe());
        var context = new AssemblyLoadContext(Block.ToString(), isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(new MemoryStream(Image));
            var type = assembly.GetType("ReadmeBlock", throwOnError: true)!;
            var run = type.GetMethod("Run", BindingFlags.Public | BindingFlags.Static)!;
            var task = (Task)run.Invoke(null, [Array.Empty<string>(), cancellationToken])!;
            await task.WaitAsync(timeout, cancellationToken);
            var output = (StringWriter)type.GetNestedType("Console")!.GetField("Out")!.GetValue(null)!;
            return output.ToString();
        }
        finally
        {
            context.Unload();
        }
    }
}
