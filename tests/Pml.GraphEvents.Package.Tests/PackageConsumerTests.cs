using System.IO.Compression;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Pml.GraphEvents.Package.Tests;

/// <summary>
/// Packs the real projects into a folder feed, then builds and runs fresh consumers that
/// reference them by version from that feed only: a web app that reads SSE frames from the core
/// and ASP.NET Core packages, and a console app that keeps a graph in the SQLite package's store.
/// What a user of the packages does, end to end.
/// </summary>
public sealed class PackageConsumerTests(PackageConsumerTests.Feed feed) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pml-package-consumer-").FullName;

    [Fact]
    public async Task Every_package_is_packed_with_readme_docs_license_and_symbols()
    {
        await feed.PackAsync();
        foreach (var package in Feed.Packages)
        {
            AssertPackageContents(Path.Combine(feed.Directory, $"{package}.{feed.Version}.nupkg"), package);
            Assert.True(File.Exists(Path.Combine(feed.Directory, $"{package}.{feed.Version}.snupkg")), $"{package} has no symbol package.");
        }

        // The server as a .NET tool: everything under tools/, the same metadata and symbols.
        AssertPackageContents(Path.Combine(feed.Directory, $"{Feed.Tool}.{feed.Version}.nupkg"), Feed.Tool, "tools/net10.0/any");
        Assert.True(File.Exists(Path.Combine(feed.Directory, $"{Feed.Tool}.{feed.Version}.snupkg")), $"{Feed.Tool} has no symbol package.");
    }

    [Fact]
    public async Task A_fresh_consumer_restores_the_packages_from_the_feed_and_streams_events()
    {
        await feed.PackAsync();
        var consumer = Directory.CreateDirectory(Path.Combine(_root, "consumer")).FullName;
        WriteConsumer(consumer, feed.Directory, feed.Version);
        await DotnetCli.RunAsync(consumer, "build", "-c", "Release");

        // The core package (and ASP.NET Core, and Redis) carry no native code: no SQLite runtimes
        // in a broadcaster-only app. The SQLite store is its own package.
        var output = Path.Combine(consumer, "bin", "Release", "net10.0");
        Assert.Empty(NativeSqliteFiles(output));
        var deps = File.ReadAllText(Path.Combine(output, "Consumer.deps.json"));
        Assert.DoesNotContain("Microsoft.Data.Sqlite", deps, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SQLitePCLRaw", deps, StringComparison.OrdinalIgnoreCase);

        using var app = DotnetCli.Start(consumer, "run", "-c", "Release", "--no-build");
        try
        {
            var address = await ReadListeningAddressAsync(app);
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var response = await client.GetAsync($"{address}/events/stream", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            await using var events = SseParser.Create(body).EnumerateAsync(TestContext.Current.CancellationToken).GetAsyncEnumerator(TestContext.Current.CancellationToken);

            Assert.True(await events.MoveNextAsync());
            Assert.Equal("connected", events.Current.EventType);
            using var data = JsonDocument.Parse(events.Current.Data);
            Assert.Equal(1, data.RootElement.GetProperty("connected_clients").GetInt32());

            // The consumer publishes one edge per second; the next graph event is one of them.
            Assert.True(await events.MoveNextAsync());
            Assert.Equal("edge_created", events.Current.EventType);
        }
        finally
        {
            app.Kill(entireProcessTree: true);
            await app.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_fresh_consumer_keeps_the_graph_in_the_sqlite_package_store_across_restarts()
    {
        await feed.PackAsync();
        var consumer = Directory.CreateDirectory(Path.Combine(_root, "store-consumer")).FullName;
        WriteNuGetConfig(consumer, feed.Directory);
        File.WriteAllText(Path.Combine(consumer, "StoreConsumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <!-- The web SDK for the shared framework's ServiceCollection.BuildServiceProvider only. -->
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Pml.GraphEvents.Sqlite" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using Microsoft.Extensions.DependencyInjection;
            using Pml.GraphEvents;
            using Pml.GraphEvents.Sqlite;

            var path = Path.Combine(args[0], "graph.db");
            var services = new ServiceCollection();
            services.AddGraphEvents().AddToolGraphEngine(options => options.AutoRegisterUnknownTools = true).AddSqliteToolGraphStore(path);
            await using (var provider = services.BuildServiceProvider())
            {
                var engine = provider.GetRequiredService<IToolGraphEngine>();
                await engine.SyncAsync();
                await engine.UpdateFromExecutionAsync(WorkflowExecution.Chain("w1", ["git:status", "git:commit"]));
            }

            // A new store on the same file, as after a restart: the learned edge is there.
            await using var store = new SqliteToolGraphStore(path);
            var contents = await store.LoadAsync();
            if (contents.Edges.Count != 1 || contents.Edges[0].FromToolId != "git:status")
            {
                Console.Error.WriteLine($"Expected the edge git:status -> git:commit, found {contents.Edges.Count} edge(s).");
                return 1;
            }

            return 0;
            """);

        await DotnetCli.RunAsync(consumer, "build", "-c", "Release");
        await DotnetCli.RunAsync(consumer, "run", "-c", "Release", "--no-build", "--", consumer);

        // The native SQLite library comes with this package only (and proves the check above looks
        // in the right place).
        Assert.NotEmpty(NativeSqliteFiles(Path.Combine(consumer, "bin", "Release", "net10.0")));
    }

    /// <summary>The native SQLite libraries in a build output (<c>runtimes/*/native/*sqlite*</c>).</summary>
    private static List<string> NativeSqliteFiles(string output)
    {
        var runtimes = Path.Combine(output, "runtimes");
        return !System.IO.Directory.Exists(runtimes)
            ? []
            : System.IO.Directory.EnumerateFiles(runtimes, "*", SearchOption.AllDirectories)
                .Where(f => f.Contains($"{Path.DirectorySeparatorChar}native{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && Path.GetFileName(f).Contains("sqlite", StringComparison.OrdinalIgnoreCase))
                .ToList();
    }

    private static void AssertPackageContents(string path, string package, string folder = "lib/net10.0")
    {
        using var archive = ZipFile.OpenRead(path);
        var names = archive.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("README.md", names);
        Assert.Contains($"{folder}/{package}.dll", names);
        Assert.Contains($"{folder}/{package}.xml", names);
        using var nuspec = new StreamReader(archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var text = nuspec.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", text, StringComparison.Ordinal);
        Assert.Contains("<readme>README.md</readme>", text, StringComparison.Ordinal);
        Assert.Contains("<description>", text, StringComparison.Ordinal);
        Assert.Contains("<tags>", text, StringComparison.Ordinal);
    }

    private static void WriteNuGetConfig(string directory, string feed) =>
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="Pml.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);

    private static void WriteConsumer(string directory, string feed, string version)
    {
        WriteNuGetConfig(directory, feed);
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Pml.GraphEvents.AspNetCore" Version="{version}" />
                <PackageReference Include="Pml.GraphEvents.Redis" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            using Microsoft.AspNetCore.Hosting.Server;
            using Microsoft.AspNetCore.Hosting.Server.Features;
            using Pml.GraphEvents;
            using Pml.GraphEvents.AspNetCore;
            using Pml.GraphEvents.Redis;

            var builder = WebApplication.CreateSlimBuilder(args);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Services.AddGraphEvents().AddGraphEventStream();
            if (args.Contains("--redis"))
            {
                // Compiles against the Redis package's API; the test runs without a Redis server.
                builder.Services.AddGraphEvents().AddRedisBackplane("127.0.0.1:6390");
            }

            var app = builder.Build();
            app.MapGraphEventStream("/events/stream");
            await app.StartAsync();

            Console.WriteLine("LISTENING " + app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            var publisher = app.Services.GetRequiredService<IGraphEventPublisher>();
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
            while (await timer.WaitForNextTickAsync())
            {
                await publisher.PublishAsync(new EdgeCreatedEvent("git:status", "git:commit", 0.5, DateTimeOffset.UtcNow));
            }
            """);
    }

    private static async Task<string> ReadListeningAddressAsync(System.Diagnostics.Process app)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(1));
        while (await app.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("LISTENING ", StringComparison.Ordinal))
            {
                return line["LISTENING ".Length..].TrimEnd('/');
            }
        }

        Assert.Fail($"The consumer exited before listening: {await app.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken)}");
        return "";
    }

    public void Dispose() => DeleteDirectory(_root);

    private static void DeleteDirectory(string path)
    {
        try
        {
            System.IO.Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// The folder feed: every package packed once, under a version no cache has seen. One for the
    /// whole test assembly (AssemblyInfo.cs), so the tool's tests use the same packs.
    /// </summary>
    public sealed class Feed : IDisposable
    {
        /// <summary>The libraries.</summary>
        public static readonly string[] Packages = ["Pml.GraphEvents", "Pml.GraphEvents.AspNetCore", "Pml.GraphEvents.Redis", "Pml.GraphEvents.Sqlite", "Pml.GraphEvents.QuikGraph"];

        /// <summary>The server, packed as a .NET tool (<c>pml-graph-events</c>).</summary>
        public const string Tool = "Pml.GraphEvents.Server";

        private readonly SemaphoreSlim _gate = new(1, 1);
        private bool _packed;

        public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("pml-package-feed-").FullName;

        // A version no cache has seen, so a consumer cannot pick up an older copy of a package.
        public string Version { get; } = $"0.0.0-packagetest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

        /// <summary>Packs every package into <see cref="Directory"/> on the first call.</summary>
        public async Task PackAsync()
        {
            // Packed inside a test, not when the fixture is created, so a failing pack is reported by
            // the test that needed it, with dotnet's output.
            await _gate.WaitAsync(TestContext.Current.CancellationToken);
            try
            {
                if (_packed)
                {
                    return;
                }

                foreach (var package in (string[])[.. Packages, Tool])
                {
                    await DotnetCli.RunAsync(DotnetCli.RepositoryRoot, "pack", $"src/{package}/{package}.csproj", "-c", "Release", "-o", Directory, $"-p:Version={Version}");
                }

                _packed = true;
            }
            finally
            {
                _gate.Release();
            }
        }

        public void Dispose()
        {
            _gate.Dispose();
            DeleteDirectory(Directory);
        }
    }
}
