using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace Pml.GraphEvents.Browser.Tests;

/// <summary>
/// Everything a session shows in the browser's console as a problem: console errors, uncaught
/// exceptions, requests that failed and answers of 400 or more (a missing favicon would be one).
/// </summary>
internal sealed class PageProblems
{
    private readonly ConcurrentQueue<string> _problems = new();

    public PageProblems(IPage page)
    {
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _problems.Enqueue($"console error: {message.Text}");
            }
        };
        page.PageError += (_, error) => _problems.Enqueue($"page error: {error}");
        page.RequestFailed += (_, request) =>
        {
            // A stream the page closes itself (to load again after events_lost) ends as aborted:
            // the page's own doing, and Chromium writes nothing about it to the console.
            if (request.Failure == "net::ERR_ABORTED" && request.Url.Contains("/events/stream", StringComparison.Ordinal))
            {
                return;
            }

            _problems.Enqueue($"request failed: {request.Method} {request.Url} {request.Failure}");
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                _problems.Enqueue($"{response.Status}: {response.Request.Method} {response.Url}");
            }
        };
    }

    public IReadOnlyList<string> All => [.. _problems];
}
