using System.Diagnostics;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The server build the end-to-end probe runs: the one given with <c>--dll PATH</c>, or a Release
/// build of src/Pml.GraphEvents.Server made here into artifacts/e2e-server, so that
/// <c>./build.sh bench probe e2e</c> works from a clean clone. Built with <c>dotnet build</c> once
/// per probe run: an up-to-date build takes a few seconds, and the figures are never of a stale one.
/// </summary>
internal static class EndToEndServerBuild
{
    private const string Project = "src/Pml.GraphEvents.Server/Pml.GraphEvents.Server.csproj";
    private const string DllName = "Pml.GraphEvents.Server.dll";

    public static async Task<string> LocateAsync(string? dll)
    {
        if (dll is not null)
        {
            return File.Exists(dll) ? Path.GetFullPath(dll) : throw new EndToEndException($"--dll {dll}: no such file.");
        }

        var root = FindRepositoryRoot()
            ?? throw new EndToEndException("The repository (Pml.GraphEvents.sln) is not above this program or the working directory: pass --dll PATH to a built server.");
        var output = Path.Combine(root, "artifacts", "e2e-server");
        Console.Error.WriteLine($"Building the server (Release) into {output} ...");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "build", "-c", "Release", Project, "-o", output, "-v", "q", "-nologo" })
        {
            start.ArgumentList.Add(argument);
        }

        using var build = Process.Start(start) ?? throw new EndToEndException("dotnet build did not start.");
        var stdout = build.StandardOutput.ReadToEndAsync();
        var stderr = build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        if (build.ExitCode != 0)
        {
            throw new EndToEndException($"dotnet build of the server failed ({build.ExitCode}):{Environment.NewLine}{await stdout}{await stderr}");
        }

        var path = Path.Combine(output, DllName);
        return File.Exists(path) ? path : throw new EndToEndException($"dotnet build succeeded but {path} is missing.");
    }

    private static string? FindRepositoryRoot()
    {
        foreach (var from in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var folder = new DirectoryInfo(from); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Pml.GraphEvents.sln")) && File.Exists(Path.Combine(folder.FullName, Project)))
                {
                    return folder.FullName;
                }
            }
        }

        return null;
    }
}
