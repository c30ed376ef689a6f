using Microsoft.Playwright;

namespace Pml.GraphEvents.Browser.Tests;

/// <summary>The dashboard's test hooks, and condition waits on them (no fixed sleeps).</summary>
internal sealed class DashboardPage(IPage page)
{
    public const float Timeout = 30_000;

    public IPage Page { get; } = page;

    public ILocator Status => Page.Locator("#connection-status");

    public async Task OpenAsync(Uri baseAddress)
    {
        await Page.GotoAsync(baseAddress.ToString(), new PageGotoOptions { Timeout = Timeout });
    }

    public Task WaitForStateAsync(string state) =>
        Page.WaitForSelectorAsync($"#connection-status[data-state='{state}']", new PageWaitForSelectorOptions { Timeout = Timeout, State = WaitForSelectorState.Attached });

    public Task WaitForAsync(string selector) =>
        Page.WaitForSelectorAsync(selector, new PageWaitForSelectorOptions { Timeout = Timeout, State = WaitForSelectorState.Attached });

    public Task WaitForTextAsync(string selector, string text) =>
        Page.WaitForFunctionAsync(
            "([selector, text]) => document.querySelector(selector)?.textContent === text",
            new object[] { selector, text },
            new PageWaitForFunctionOptions { Timeout = Timeout, PollingInterval = 50 });

    /// <summary>Waits until the page's event log holds a line of <paramref name="eventType"/> whose text contains <paramref name="text"/>.</summary>
    public Task WaitForLogAsync(string eventType, string text) =>
        Page.WaitForFunctionAsync(
            "([type, text]) => Array.from(document.querySelectorAll(`#event-log li[data-event-type='${type}']`)).some(li => li.textContent.includes(text))",
            new object[] { eventType, text },
            new PageWaitForFunctionOptions { Timeout = Timeout, PollingInterval = 50 });

    public async Task<int> DrawnNodesAsync() => int.Parse(await Page.Locator("#graph").GetAttributeAsync("data-node-count") ?? "0", System.Globalization.CultureInfo.InvariantCulture);

    public async Task<int> DrawnEdgesAsync() => int.Parse(await Page.Locator("#graph").GetAttributeAsync("data-edge-count") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
}
