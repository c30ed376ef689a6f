using System.Diagnostics;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The probe's N stream clients (<see cref="EndToEndReader"/>), each on its own connection of one
/// HttpClient, with bounded waits that fail fast: a wait ends with an
/// <see cref="EndToEndException"/> as soon as one reader has failed, or at its time limit.
/// </summary>
internal sealed class EndToEndReaders : IAsyncDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = int.MaxValue })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];

    public IReadOnlyList<EndToEndReader> All { get; private set; } = [];

    /// <summary>Opens <paramref name="count"/> streams and waits until each has its <c>connected</c> frame.</summary>
    public static async Task<EndToEndReaders> ConnectAsync(Uri address, int count)
    {
        var readers = new EndToEndReaders();
        var url = new Uri(address, "/events/stream");
        var all = new EndToEndReader[count];
        for (var i = 0; i < count; i++)
        {
            var reader = all[i] = new EndToEndReader();
            readers._tasks.Add(Task.Run(() => reader.RunAsync(readers._client, url, readers._stop.Token)));
        }

        readers.All = all;
        try
        {
            await readers.WaitForAsync(r => r.Connected, "connected", TimeSpan.FromSeconds(30));
            return readers;
        }
        catch
        {
            await readers.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until every reader holds the event at <paramref name="offset"/>.</summary>
    public Task WaitForOffsetAsync(long offset, TimeSpan timeout) =>
        WaitForAsync(r => r.LastOffset == offset, $"the event at offset {offset}", timeout);

    /// <summary>Waits until every reader has the <c>workflow_executed</c> frames of <paramref name="executions"/> measured executions.</summary>
    public Task WaitForExecutionsAsync(long executions, TimeSpan timeout) =>
        WaitForAsync(r => r.Executions >= executions, $"the workflow_executed frames of {executions:N0} executions", timeout);

    public void Arm(EndToEndDeliveryLatency latency)
    {
        foreach (var reader in All)
        {
            reader.Arm(latency);
        }
    }

    /// <summary>
    /// Every reader received every event of the run (offsets <paramref name="before"/> + 1 to
    /// <paramref name="after"/>), in one unbroken run of ids, and the <c>workflow_executed</c>
    /// frame of each of the <paramref name="executions"/> measured executions; throws otherwise.
    /// </summary>
    public void Check(long before, long after, long executions)
    {
        var problems = new List<string>();
        AddFailures(problems);
        var expected = after - before;
        var incomplete = All.Where(r => r.LastOffset != after || r.Events != expected).ToList();
        if (incomplete.Count > 0)
        {
            problems.Add($"{incomplete.Count} reader(s) did not receive the {expected:N0} events from offset {before + 1} to {after}: one has {incomplete[0].Events:N0}, up to offset {incomplete[0].LastOffset}");
        }

        var unmatched = All.Where(r => r.Executions != executions).ToList();
        if (unmatched.Count > 0)
        {
            problems.Add($"{unmatched.Count} reader(s) did not receive one workflow_executed frame per execution: one has {unmatched[0].Executions:N0} of {executions:N0}");
        }

        if (problems.Count > 0)
        {
            throw new EndToEndException(string.Join("; ", problems));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
        _stop.Dispose();
        _client.Dispose();
    }

    private async Task WaitForAsync(Func<EndToEndReader, bool> done, string what, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!All.All(done))
        {
            var problems = new List<string>();
            AddFailures(problems);
            if (problems.Count > 0)
            {
                throw new EndToEndException(string.Join("; ", problems));
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                var waiting = All.Where(r => !done(r)).ToList();
                throw new EndToEndException($"{waiting.Count} of {All.Count} reader(s) did not get {what} within {timeout.TotalSeconds:0} s (one is at offset {waiting[0].LastOffset}).");
            }

            // Polling, not a signal per frame: the readers' hot path stays free of it, and the
            // probe's wake-ups every few ms cost the shared cores next to nothing.
            await Task.Delay(5);
        }
    }

    private void AddFailures(List<string> problems)
    {
        var failed = All.Where(r => r.Failure is not null).ToList();
        if (failed.Count > 0)
        {
            problems.Add($"{failed.Count} reader(s) failed, the first: {failed[0].Failure}");
        }
    }
}
