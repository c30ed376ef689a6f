using System.IO.Compression;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Pml.GraphEvents.Package.Tests;

/// <summary>
/// Packs the real projects into a folder feed, then builds and runs a fresh consumer that
/// references them by version from that feed only, and reads one SSE frame from it: what a user
/// of the packages does, end to end.
/// </summary>
public sealed class PackageConsumerTests : IDisposable
{
    private static readonly string[] Packages = ["Pml.GraphEvents", "Pml.GraphEvents.AspNetCore", "Pml.GraphEvents.Redis"];

    private readonly string _root = Directory.CreateTempSubdirectory("pml-package-test-").FullName;

    [Fact]
    public async Task A_fresh_consumer_restores_the_packages_from_the_feed_and_streams_events()
    {
        var feed = Directory.CreateDirectory(Path.Combine(_root, "feed")).FullName;

        // A version no cache has seen, so the consumer cannot pick up an older copy of the package.
        var version = $"0.0.0-packagetest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        foreach (var package in Packages)
        {
            await DotnetCli.RunAsync(DotnetCli.RepositoryRoot, "pack", $"src/{package}/{package}.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");
        }

        foreach (var package in Packages)
        {
            AssertPackageContents(Path.Combine(feed, $"{package}.{version}.nupkg"), package);
            Assert.True(File.Exists(Path.Combine(feed, $"{package}.{version}.snupkg")), $"{package} has no symbol package.");
        }

        var consumer = Directory.CreateDirectory(Path.Combine(_root, "consumer")).FullName;
        WriteConsumer(consumer, feed, version);
        await DotnetCli.RunAsync(consumer, "build", "-c", "Release");

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

    private static void AssertPackageContents(string path, string package)
    {
        using var archive = ZipFile.OpenRead(path);
        var names = archive.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("README.md", names);
        Assert.Contains($"lib/net10.0/{package}.dll", names);
        Assert.Contains($"lib/net10.0/{package}.xml", names);
        using var nuspec = new StreamReader(archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var text = nuspec.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", text, StringComparison.Ordinal);
        Assert.Contains("<readme>README.md</readme>", text, StringComparison.Ordinal);
        Assert.Contains("<description>", text, StringComparison.Ordinal);
        Assert.Contains("<tags>", text, StringComparison.Ordinal);
    }

    private static void WriteConsumer(string directory, string feed, string version)
    {
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
