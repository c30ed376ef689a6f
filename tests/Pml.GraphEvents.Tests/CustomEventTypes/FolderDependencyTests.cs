using System.Text.RegularExpressions;

namespace Pml.GraphEvents.Tests.CustomEventTypes;

/// <summary>
/// Issue 13, item 9 (Events and Serialization): the dependency goes one way. Serialization knows
/// the events (its contexts and contracts list them); the events know nothing of Serialization.
/// </summary>
public sealed partial class FolderDependencyTests
{
    [Fact]
    public void No_file_in_Events_names_a_type_declared_in_Serialization()
    {
        var source = Path.Combine(RepositoryRoot(), "src", "Pml.GraphEvents");
        var serializationTypes = Directory.EnumerateFiles(Path.Combine(source, "Serialization"), "*.cs")
            .SelectMany(f => Declarations().Matches(File.ReadAllText(f)).Select(m => m.Groups["name"].Value))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("GraphEventJsonContext", serializationTypes);
        Assert.Contains("EncodedSize", serializationTypes);

        // Code and XML docs alike: a cref is a dependency too.
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(source, "Events"), "*.cs"))
        {
            var words = Words().Matches(File.ReadAllText(file)).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
            offenders.AddRange(words.Intersect(serializationTypes).Select(t => $"{Path.GetFileName(file)} names {t}"));
        }

        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
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

    // A declaration starts its line (after modifiers): words in comments ("a class that ...") are not types.
    [GeneratedRegex(@"^\s*(?:(?:public|internal|private|protected|file|sealed|abstract|static|partial|readonly)\s+)*(?:class|record|struct|interface|enum)\s+(?<name>[A-Za-z_][A-Za-z0-9_]*)", RegexOptions.Multiline)]
    private static partial Regex Declarations();

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Words();
}
