using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// <c>dotnet path/to/Pml.GraphEvents.Server.dll</c> started from another folder reads the
/// appsettings.json beside the dll, not one in the working directory.
/// </summary>
public sealed class ContentRootTests
{
    [Fact]
    public async Task The_server_reads_appsettings_from_its_own_folder_whatever_the_working_directory()
    {
        // A working directory whose appsettings.json would stop the server at start (an invalid
        // option): read from there, the server would not start.
        var elsewhere = Directory.CreateTempSubdirectory("pml-graph-cwd-");
        try
        {
            await File.WriteAllTextAsync(
                Path.Combine(elsewhere.FullName, "appsettings.json"),
                """{"Server":{"MaxBodyBytes":1}}""",
                TestContext.Current.CancellationToken);

            await using var server = await ChildServer.StartAsync(workingDirectory: elsewhere.FullName);

            // The host logs its content root after it starts listening, so the line may come
            // after the server answers: wait for it rather than read the output once.
            var expected = $"Content root path: {AppContext.BaseDirectory}";
            await Eventually.HoldsAsync(
                () => server.Output.Contains(expected, StringComparison.Ordinal),
                () => $"the server logs '{expected}'; output:\n{server.Output}");
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }
}
