using System.IO.Compression;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;

namespace Pml.GraphEvents.Package.Tests;

/// <summary>
/// The server packed as a .NET tool, installed from the folder feed into a temporary tool path
/// (never globally) and run from another working directory, as someone without a clone does:
/// <c>pml-graph-events</c> serves the page, learns a POSTed execution and streams it;
/// <c>pml-graph-events paths</c> and <c>tail</c> talk to it.
/// </summary>
public sealed class ToolPackageTests(PackageConsumerTests.Feed feed) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pml-tool-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_tool_package_holds_the_command_its_settings_and_the_page()
    {
        await feed.PackAsync();
        using var archive = ZipFile.OpenRead(Path.Combine(feed.Directory, $"{PackageConsumerTests.Feed.Tool}.{feed.Version}.nupkg"));
        var names = archive.Entries.Select(e => e.FullName).ToList();

        using (var settings = new StreamReader(archive.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open()))
        {
            Assert.Contains("<Command Name=\"pml-graph-events\" EntryPoint=\"Pml.GraphEvents.Server.dll\"", settings.ReadToEnd(), StringComparison.Ordinal);
        }

        // appsettings.json beside the dll (the content root), not as content files for a project.
        Assert.Contains("tools/net10.0/any/appsettings.json", names);
        Assert.DoesNotContain(names, n => n.StartsWith("content", StringComparison.Ordinal));

        // The runtime option of the server's project file (docs/benchmarks.md, issue 16) is in the tool's runtimeconfig.
        using (var runtimeConfig = JsonDocument.Parse(archive.GetEntry("tools/net10.0/any/Pml.GraphEvents.Server.runtimeconfig.json")!.Open()))
        {
            Assert.Equal(0, runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        }

        // The native SQLite libraries for the platforms a framework-dependent tool runs on.
        Assert.Contains(names, n => n.StartsWith("tools/net10.0/any/runtimes/linux-x64/native/", StringComparison.Ordinal));

        using var nuspec = new StreamReader(archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        Assert.Contains("<packageType name=\"DotnetTool\" />", nuspec.ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_installed_tool_runs_the_server_from_any_folder_and_its_sub_commands_talk_to_it()
    {
        await feed.PackAsync();
        var toolPath = Path.Combine(_root, "tools");
        await DotnetCli.RunAsync(_root, "tool", "install", PackageConsumerTests.Feed.Tool, "--tool-path", toolPath, "--add-source", feed.Directory, "--version", feed.Version);
        var command = Path.Combine(toolPath, "pml-graph-events");

        // A folder that is neither the tool's nor the repository's: the user's, where the graph file goes.
        var userFolder = Directory.CreateDirectory(Path.Combine(_root, "user")).FullName;
        await using var server = ChildProcess.Start(command, userFolder, "--urls", "http://127.0.0.1:0", "--simulate", "false");
        var listening = await server.WaitForLineAsync("Now listening on: ");
        var address = new Uri(listening[(listening.IndexOf("http", StringComparison.Ordinal))..].Trim());

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

        // The page, embedded in the assembly, from the installed tool.
        using (var page = await http.GetAsync(new Uri("/", UriKind.Relative), Token))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<html", await page.Content.ReadAsStringAsync(Token), StringComparison.OrdinalIgnoreCase);
        }

        using var stream = await http.GetAsync(new Uri("/events/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Token);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        await using var body = await stream.Content.ReadAsStreamAsync(Token);
        await using var events = SseParser.Create(body).EnumerateAsync(Token).GetAsyncEnumerator(Token);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal("connected", events.Current.EventType);

        // Two tools of the embedded sample catalog: learned, streamed as the new edge.
        using (var content = new StringContent("""{"execution_id":"tool-1","tool_ids":["git:status","git:commit"],"success":true,"execution_time_ms":5}""", Encoding.UTF8, "application/json"))
        using (var accepted = await http.PostAsync(new Uri("/executions", UriKind.Relative), content, Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        while (true)
        {
            Assert.True(await events.MoveNextAsync(), "The stream ended before the learned edge.");
            if (events.Current.EventType == "edge_created")
            {
                using var edge = JsonDocument.Parse(events.Current.Data);
                Assert.Equal("git:status", edge.RootElement.GetProperty("from_tool_id").GetString());
                Assert.Equal("git:commit", edge.RootElement.GetProperty("to_tool_id").GetString());
                break;
            }
        }

        // The graph file is where the documentation says: pml-graph.db in the working directory.
        Assert.True(File.Exists(Path.Combine(userFolder, "pml-graph.db")), $"No pml-graph.db in the working directory {userFolder}.");

        await using (var paths = ChildProcess.Start(command, userFolder, "paths", address.ToString(), "git:status", "git:commit"))
        {
            Assert.Equal(0, await paths.WaitForExitAsync());
            Assert.Contains("git:status → git:commit", paths.Output, StringComparison.Ordinal);
        }

        // tail runs until stopped: its first line is the stream's connected event.
        await using (var tail = ChildProcess.Start(command, userFolder, "tail", new Uri(address, "/events/stream").ToString()))
        {
            Assert.Contains(" connected ", await tail.WaitForLineAsync("\"connected_clients\""), StringComparison.Ordinal);
        }

        await using (var mistyped = ChildProcess.Start(command, userFolder, "tial", address.ToString()))
        {
            Assert.Equal(2, await mistyped.WaitForExitAsync());
            Assert.Contains("unknown command 'tial'", mistyped.Output, StringComparison.Ordinal);
        }

        Assert.False(server.HasExited, $"The server exited:\n{server.Output}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
