using System.Diagnostics;
using System.Text;

namespace Pml.GraphEvents.AspNetCore.Tests.TestSupport;

/// <summary>
/// The real curl binary reading a stream (<c>curl -sSN</c>, which writes each chunk as it arrives),
/// with what it printed so far. Disposing kills it.
/// </summary>
internal sealed class CurlStream : IAsyncDisposable
{
    public const string Path = "/usr/bin/curl";

    private readonly Process _curl;
    private readonly Task<string> _errors;
    private readonly StringBuilder _output = new();
    private readonly char[] _buffer = new char[8192];

    private CurlStream(Process curl)
    {
        _curl = curl;
        _errors = curl.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Everything curl printed so far.</summary>
    public string Output => _output.ToString();

    /// <summary>Starts curl on <paramref name="uri"/>; skips the test when curl is not installed.</summary>
    public static CurlStream Open(Uri uri)
    {
        Assert.SkipUnless(File.Exists(Path), $"{Path} is not installed: this test runs the real curl binary.");
        var start = new ProcessStartInfo(Path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-sSN", "-H", "Accept: text/event-stream", "--max-time", "30", uri.ToString() })
        {
            start.ArgumentList.Add(argument);
        }

        return new CurlStream(Process.Start(start)!);
    }

    /// <summary>Reads until the output contains <paramref name="text"/>; fails the test if curl exits or the deadline passes first.</summary>
    public async Task ReadUntilAsync(string text)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(SseClient.Deadline);
        while (!_output.ToString().Contains(text, StringComparison.Ordinal))
        {
            int read;
            try
            {
                read = await _curl.StandardOutput.ReadAsync(_buffer, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"curl printed no '{text}' in time. Output:\n{_output}");
                throw;
            }

            if (read == 0)
            {
                await _curl.WaitForExitAsync(timeout.Token);
                Assert.Fail($"curl exited ({_curl.ExitCode}) before '{text}'. Output:\n{_output}\nErrors:\n{await _errors}");
            }

            _output.Append(_buffer, 0, read);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _curl.Kill();
        await _curl.WaitForExitAsync(TestContext.Current.CancellationToken);
        _curl.Dispose();
    }
}
