using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(Pml.GraphEvents.Browser.Tests.ChromiumFixture))]

namespace Pml.GraphEvents.Browser.Tests;

/// <summary>
/// One real Chromium for the whole run (the system's, from the Debian package: nothing is
/// downloaded), each test in its own browser context.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    /// <summary>Where Debian's chromium package installs the browser; PML_CHROMIUM overrides it.</summary>
    public static string ExecutablePath => Environment.GetEnvironmentVariable("PML_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"Chromium is not installed at {ExecutablePath}: run ./build.sh test (it installs the chromium package) or set PML_CHROMIUM.");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
