using System.Reflection;
using PublicApiGenerator;

namespace Pml.GraphEvents.Package.Tests;

/// <summary>
/// Each package's public API against a checked-in baseline (<c>PublicApi/*.approved.txt</c>), so
/// that any change to it is a visible diff in review. On a deliberate change, the test writes
/// <c>*.received.txt</c> beside the baseline: review it and rename it over the approved file.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Assemblies() => new(
        typeof(GraphEvent).Assembly.GetName().Name!,
        typeof(AspNetCore.GraphEventStreamOptions).Assembly.GetName().Name!,
        typeof(Redis.RedisBackplaneOptions).Assembly.GetName().Name!,
        typeof(Sqlite.SqliteToolGraphStore).Assembly.GetName().Name!,
        typeof(QuikGraph.ToolChain).Assembly.GetName().Name!);

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Public_api_matches_the_approved_baseline(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);
        var api = assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            // Attributes the compiler and build add carry no API meaning and change with tooling.
            ExcludeAttributes =
            [
                "System.Runtime.Versioning.TargetFrameworkAttribute",
                "System.Reflection.AssemblyMetadataAttribute",
                "System.Runtime.CompilerServices.InternalsVisibleToAttribute",

                // Compiler-generated state machine names change whenever a type gains a member.
                "System.Runtime.CompilerServices.AsyncIteratorStateMachineAttribute",
                "System.Runtime.CompilerServices.AsyncStateMachineAttribute",
            ],
        }).ReplaceLineEndings("\n");

        var directory = Path.Combine(DotnetCli.RepositoryRoot, "tests", "Pml.GraphEvents.Package.Tests", "PublicApi");
        var approvedPath = Path.Combine(directory, $"{assemblyName}.approved.txt");
        var receivedPath = Path.Combine(directory, $"{assemblyName}.received.txt");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath) : null;
        if (approved == api)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(receivedPath, api);
        Assert.Fail($"The public API of {assemblyName} differs from {approvedPath}. The current API is in {receivedPath}: review the difference and rename it over the approved file if the change is deliberate.");
    }
}
