using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>
/// The folders of a project depend on each other in one direction only: the projects' own sources,
/// compiled here with Roslyn, every type they use mapped to the folder of the file that declares it.
/// See the dependency order in docs/architecture.md.
/// </summary>
/// <remarks>
/// <para>
/// A folder is a project's top-level folder (<c>Graph/Metrics</c> is part of <c>Graph</c>); files at
/// the project's root form the folder <c>(root)</c>. A use is any name or expression the compiler binds
/// to a type or a member of a type, in code and attributes; documentation comments do not count (a
/// <c>cref</c> may point anywhere).
/// </para>
/// <para>
/// Source generators do not run here. Their members are missing, which the compiler reports (the
/// errors that <see cref="IsGeneratorGap"/> accepts, and no others), but no dependency is: what a
/// <c>[LoggerMessage]</c> method or a <c>JsonSerializerContext</c> refers to is written in its
/// attributes and signatures, which are in the source.
/// </para>
/// </remarks>
public sealed class FolderDependencyTests
{
    private static readonly string[] ImplicitUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks",
    ];

    private static readonly Lazy<IReadOnlyList<MetadataReference>> FrameworkReferences = new(LoadFrameworkReferences);

    private static readonly Lazy<ProjectModel> Core = new(() => ProjectModel.Load("Pml.GraphEvents", ["System.Text.Json"], []));

    private static readonly Lazy<ProjectModel> AspNetCore = new(() => ProjectModel.Load("Pml.GraphEvents.AspNetCore", [], [Core.Value.Compilation.ToMetadataReference()]));

    public static TheoryData<string> Projects => ["Pml.GraphEvents", "Pml.GraphEvents.AspNetCore"];

    [Theory]
    [MemberData(nameof(Projects))]
    public void The_folders_of_a_project_have_no_cycles(string project)
    {
        var model = Model(project);
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"{project}: {model.Folders.Count} folders in layers, each using only the layers before it:");
        foreach (var layer in model.Layers())
        {
            output?.WriteLine("  " + string.Join(", ", layer.Select(c => string.Join(" + ", c))));
        }

        foreach (var uses in model.DescribeUses())
        {
            output?.WriteLine("  " + uses);
        }

        var cycles = model.Cycles();
        Assert.True(cycles.Count == 0, $"{project}: folders that depend on each other:\n\n{string.Join("\n\n", cycles.Select(model.Describe))}");
    }

    [Fact]
    public void The_check_sees_a_cycle_when_there_is_one()
    {
        // Two folders that use each other, compiled the same way: the check must name both and the uses.
        var model = ProjectModel.FromSources(
            "Sample",
            [
                ("A/First.cs", "namespace S; public sealed class First { public Second? Other; }"),
                ("B/Second.cs", "namespace S; public sealed class Second { public static int Make() => new Third().Value + First.Count; }"),
                ("B/Third.cs", "namespace S; public sealed class Third { public int Value => 1; }"),
                ("A/Counts.cs", "namespace S; public sealed partial class First { public static int Count => 0; }"),
                ("C/Leaf.cs", "namespace S; public static class Leaf { public static First? Make() => null; }"),
            ]);

        var cycle = Assert.Single(model.Cycles());
        Assert.Equal(["A", "B"], cycle.Order(StringComparer.Ordinal));
        var description = model.Describe(cycle);
        Assert.Contains("A → B: A/First.cs:1 uses Second", description, StringComparison.Ordinal);
        Assert.Contains("B → A: B/Second.cs:1 uses First", description, StringComparison.Ordinal);
        Assert.Equal(["A + B", "C"], model.Layers().Select(l => string.Join(", ", l.Select(c => string.Join(" + ", c)))));
    }

    private static ProjectModel Model(string project) => project switch
    {
        "Pml.GraphEvents" => Core.Value,
        "Pml.GraphEvents.AspNetCore" => AspNetCore.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(project), project, "Not a project this test knows."),
    };

    /// <summary>What the compiler reports because a source generator did not run: nothing else is accepted.</summary>
    private static bool IsGeneratorGap(Diagnostic diagnostic, Compilation compilation)
    {
        // "Partial method must have an implementation part because it has accessibility modifiers": [LoggerMessage].
        if (diagnostic.Id == "CS8795")
        {
            return true;
        }

        // The members System.Text.Json's generator adds to a JsonSerializerContext: its constructor and
        // abstract overrides (errors on the context's own declaration), Default and the type infos
        // (errors that name the context).
        static bool IsContext(INamedTypeSymbol? type) => type?.BaseType?.ToDisplayString() == "System.Text.Json.Serialization.JsonSerializerContext";
        if (diagnostic.Id is "CS7036" or "CS0534" && diagnostic.Location.SourceTree is { } tree)
        {
            var declaration = tree.GetRoot().FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<TypeDeclarationSyntax>();
            return declaration is not null && IsContext(compilation.GetSemanticModel(tree).GetDeclaredSymbol(declaration));
        }

        return diagnostic.Id is "CS0117" or "CS1061"
            && compilation.GetSymbolsWithName(_ => true, SymbolFilter.Type).OfType<INamedTypeSymbol>().Where(IsContext)
                .Any(c => diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains($"'{c.Name}'", StringComparison.Ordinal));
    }

    private static List<MetadataReference> LoadFrameworkReferences()
    {
        // The shared frameworks this test runs on (it references Microsoft.AspNetCore.App), which
        // hold every package the two projects reference; not the built Pml.GraphEvents assemblies,
        // whose sources are compiled instead.
        return ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && !Path.GetFileName(p).StartsWith("Pml.GraphEvents", StringComparison.OrdinalIgnoreCase))
            .DistinctBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Pml.GraphEvents.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Pml.GraphEvents.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>One project's folders and the uses between them.</summary>
    private sealed class ProjectModel
    {
        private readonly Dictionary<(string From, string To), List<string>> _uses = [];

        private ProjectModel(string name, CSharpCompilation compilation)
        {
            Name = name;
            Compilation = compilation;
        }

        public string Name { get; }

        public CSharpCompilation Compilation { get; }

        public SortedSet<string> Folders { get; } = new(StringComparer.Ordinal);

        public static ProjectModel Load(string project, string[] extraUsings, MetadataReference[] projectReferences)
        {
            var directory = Path.Combine(RepositoryRoot(), "src", project);
            var files = Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
                .Where(f => !f.StartsWith("obj/", StringComparison.Ordinal) && !f.StartsWith("bin/", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .Select(f => (f, File.ReadAllText(Path.Combine(directory, f))))
                .ToList();
            Assert.NotEmpty(files);
            var usings = string.Concat(ImplicitUsings.Concat(extraUsings).Select(u => $"global using {u};\n"));

            // What MSBuild generates from the project's <InternalsVisibleTo> items, so that a project
            // that uses another's internals compiles here as it does in the build.
            var friends = XDocument.Load(Path.Combine(directory, project + ".csproj")).Descendants("InternalsVisibleTo")
                .Select(e => e.Attribute("Include")?.Value)
                .OfType<string>()
                .Select(name => $"[assembly: System.Runtime.CompilerServices.InternalsVisibleTo(\"{name}\")]\n");
            var model = FromSources(project, [("(implicit usings)", usings), ("(assembly attributes)", string.Concat(friends)), .. files], projectReferences);
            var errors = model.Compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && !IsGeneratorGap(d, model.Compilation)).ToList();
            Assert.True(errors.Count == 0, $"{project} does not compile here, so its uses cannot be trusted:\n{string.Join("\n", errors.Take(20))}");
            return model;
        }

        public static ProjectModel FromSources(string project, IReadOnlyList<(string Path, string Text)> files, MetadataReference[]? projectReferences = null)
        {
            var parse = new CSharpParseOptions(LanguageVersion.Preview, DocumentationMode.None);
            var trees = files.Select(f => CSharpSyntaxTree.ParseText(f.Text, parse, f.Path)).ToList();
            var compilation = CSharpCompilation.Create(
                project,
                trees,
                [.. FrameworkReferences.Value, .. projectReferences ?? []],
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
            var model = new ProjectModel(project, compilation);
            foreach (var tree in trees.Where(t => t.FilePath.EndsWith(".cs", StringComparison.Ordinal)))
            {
                model.Folders.Add(FolderOf(tree.FilePath));
                model.AddUses(tree);
            }

            return model;
        }

        /// <summary>
        /// The folders in layers: each uses only folders of the layers before it (a folder of no
        /// layer uses nothing). A group of more than one folder is a cycle.
        /// </summary>
        public List<List<SortedSet<string>>> Layers()
        {
            var components = StronglyConnected();
            var componentOf = components.SelectMany((c, i) => c.Select(f => (f, i))).ToDictionary(x => x.f, x => x.i, StringComparer.Ordinal);
            var layer = new int?[components.Count];

            int LayerOf(int component) => layer[component] ??= _uses.Keys
                .Where(u => componentOf[u.From] == component && componentOf[u.To] != component)
                .Select(u => LayerOf(componentOf[u.To]) + 1)
                .DefaultIfEmpty(0)
                .Max();

            return [.. Enumerable.Range(0, components.Count)
                .GroupBy(LayerOf)
                .OrderBy(g => g.Key)
                .Select(g => g.Select(i => components[i]).OrderBy(c => c.Min, StringComparer.Ordinal).ToList())];
        }

        /// <summary>The folders each folder uses, for the docs.</summary>
        public IEnumerable<string> DescribeUses() => Folders.Select(f =>
            $"{f} uses {string.Join(", ", _uses.Keys.Where(u => u.From == f).Select(u => u.To).Order(StringComparer.Ordinal).DefaultIfEmpty("nothing"))}");

        public List<SortedSet<string>> Cycles() => [.. StronglyConnected().Where(c => c.Count > 1)];

        /// <summary>Every use between the folders of <paramref name="cycle"/>, with where it is written.</summary>
        public string Describe(SortedSet<string> cycle) => string.Join(
            "\n",
            _uses.Where(u => cycle.Contains(u.Key.From) && cycle.Contains(u.Key.To))
                .OrderBy(u => u.Key.From, StringComparer.Ordinal).ThenBy(u => u.Key.To, StringComparer.Ordinal)
                .Select(u => $"{u.Key.From} → {u.Key.To}: {string.Join("; ", u.Value.Take(5))}{(u.Value.Count > 5 ? $"; and {u.Value.Count - 5} more" : "")}"));

        private static string FolderOf(string path)
        {
            var slash = path.IndexOf('/', StringComparison.Ordinal);
            return slash < 0 ? "(root)" : path[..slash];
        }

        private void AddUses(SyntaxTree tree)
        {
            var semantic = Compilation.GetSemanticModel(tree);
            var from = FolderOf(tree.FilePath);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                if (node is not (ExpressionSyntax or TypeSyntax or ConstructorInitializerSyntax or PrimaryConstructorBaseTypeSyntax))
                {
                    continue;
                }

                var symbol = semantic.GetSymbolInfo(node).Symbol;
                var types = new List<ITypeSymbol>();
                if (symbol is not null)
                {
                    Collect(symbol, types);
                }

                if (node is ExpressionSyntax expression && semantic.GetTypeInfo(expression).Type is { } type)
                {
                    Collect(type, types);
                }

                foreach (var used in types)
                {
                    foreach (var reference in used.OriginalDefinition.DeclaringSyntaxReferences)
                    {
                        // Only this project's files: a referenced project's types are not one of its folders.
                        if (Compilation.ContainsSyntaxTree(reference.SyntaxTree) && reference.SyntaxTree.FilePath.EndsWith(".cs", StringComparison.Ordinal)
                            && FolderOf(reference.SyntaxTree.FilePath) is var to && to != from)
                        {
                            var line = tree.GetLineSpan(node.Span).StartLinePosition.Line + 1;
                            var uses = _uses.TryGetValue((from, to), out var list) ? list : _uses[(from, to)] = [];
                            var use = $"{tree.FilePath}:{line} uses {used.Name}";
                            if (!uses.Contains(use))
                            {
                                uses.Add(use);
                            }
                        }
                    }
                }
            }
        }

        private static void Collect(ISymbol symbol, List<ITypeSymbol> types)
        {
            switch (symbol)
            {
                case IAliasSymbol alias:
                    Collect(alias.Target, types);
                    break;
                case IArrayTypeSymbol array:
                    Collect(array.ElementType, types);
                    break;
                case INamedTypeSymbol named:
                    types.Add(named);
                    foreach (var argument in named.TypeArguments)
                    {
                        Collect(argument, types);
                    }

                    if (named.ContainingType is { } outer)
                    {
                        types.Add(outer);
                    }

                    break;
                case IMethodSymbol method:
                    types.Add((method.ReducedFrom ?? method).ContainingType);
                    foreach (var argument in method.TypeArguments)
                    {
                        Collect(argument, types);
                    }

                    break;
                case IPropertySymbol or IFieldSymbol or IEventSymbol:
                    types.Add(symbol.ContainingType);
                    break;
            }
        }

        /// <summary>Tarjan's strongly connected components of the folder graph.</summary>
        private List<SortedSet<string>> StronglyConnected()
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            var low = new Dictionary<string, int>(StringComparer.Ordinal);
            var stack = new Stack<string>();
            var onStack = new HashSet<string>(StringComparer.Ordinal);
            var result = new List<SortedSet<string>>();
            var next = 0;

            void Visit(string folder)
            {
                index[folder] = low[folder] = next++;
                stack.Push(folder);
                onStack.Add(folder);
                foreach (var to in _uses.Keys.Where(u => u.From == folder).Select(u => u.To).Order(StringComparer.Ordinal))
                {
                    if (!index.TryGetValue(to, out var seen))
                    {
                        Visit(to);
                        low[folder] = Math.Min(low[folder], low[to]);
                    }
                    else if (onStack.Contains(to))
                    {
                        low[folder] = Math.Min(low[folder], seen);
                    }
                }

                if (low[folder] == index[folder])
                {
                    var component = new SortedSet<string>(StringComparer.Ordinal);
                    string member;
                    do
                    {
                        member = stack.Pop();
                        onStack.Remove(member);
                        component.Add(member);
                    }
                    while (member != folder);
                    result.Add(component);
                }
            }

            foreach (var folder in Folders)
            {
                if (!index.ContainsKey(folder))
                {
                    Visit(folder);
                }
            }

            return result;
        }
    }
}
