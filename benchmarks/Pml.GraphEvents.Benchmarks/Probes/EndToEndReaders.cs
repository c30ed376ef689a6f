using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The probe's N stream clients: N raw-socket connections (<see cref="EndToEndSseConnection"/>)
/// served by one thread of their own that waits on all of them at once (poll, through
/// <c>Socket.Select</c>) and receives from the ready ones, as server-cpu.py's one-selector
/// reader does. HttpClient streams cost a thread-pool wake-up per read (a futex wake and the
/// worker's spinning): about 20 µs of the shared cores per read at 1,000 events/s to 100
/// clients, half a core taken from the server under test. Bounded waits fail fast: a wait ends
/// with an <see cref="EndToEndException"/> as soon as one reader has failed, or at its time limit.
/// </summary>
internal sealed class EndToEndReaders : IDisposable
{
    private readonly EndToEndSseConnection[] _connections;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile string? _loopFailure;

    private EndToEndReaders(EndToEndSseConnection[] connections)
    {
        _connections = connections;
        All = [.. connections.Select(c => c.Reader)];
        _thread = new Thread(Loop) { IsBackground = true, Name = "e2e readers" };
    }

    public IReadOnlyList<EndToEndReader> All { get; }

    /// <summary>The server's writes (HTTP chunks) to each client since <see cref="Arm"/>, the median over clients.</summary>
    public double MedianChunks
    {
        get
        {
            var chunks = _connections.Select(c => c.Chunks).Order().ToArray();
            return chunks.Length % 2 == 1 ? chunks[chunks.Length / 2] : (chunks[(chunks.Length / 2) - 1] + chunks[chunks.Length / 2]) / 2.0;
        }
    }

    /// <summary>Opens <paramref name="count"/> streams and waits until each has its <c>connected</c> frame.</summary>
    public static async Task<EndToEndReaders> ConnectAsync(Uri address, int count)
    {
        var server = new IPEndPoint(IPAddress.Parse(address.Host), address.Port);
        var connections = new EndToEndSseConnection[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                connections[i] = EndToEndSseConnection.Open(server);
            }
        }
        catch (SocketException ex)
        {
            foreach (var connection in connections)
            {
                connection?.Dispose();
            }

            throw new EndToEndException($"A stream client could not connect: {ex.Message}", ex);
        }

        var readers = new EndToEndReaders(connections);
        readers._thread.Start();
        try
        {
            await readers.WaitForAsync(r => r.Connected, "connected", TimeSpan.FromSeconds(30));
            return readers;
        }
        catch
        {
            readers.Dispose();
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
        foreach (var connection in _connections)
        {
            connection.Arm(latency);
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

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }

        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
    }

    private void Loop()
    {
        try
        {
            // Shared by every connection: each receive is read through before the next.
            var buffer = new byte[256 * 1024];
            var open = new List<EndToEndSseConnection>(_connections);
            var ready = new List<Socket>(open.Count);
            var bySocket = _connections.ToDictionary(c => c.Socket);
            while (!_stopping && open.Count > 0)
            {
                ready.Clear();
                foreach (var connection in open)
                {
                    ready.Add(connection.Socket);
                }

                // Level-triggered: a socket with bytes left is ready again next time. The timeout
                // only bounds how late a stop is noticed.
                Socket.Select(ready, null, null, 100_000);
                foreach (var socket in ready)
                {
                    var connection = bySocket[socket];
                    if (!connection.Receive(buffer, Stopwatch.GetTimestamp()))
                    {
                        open.Remove(connection);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // A bug or a broken socket here must stop the run, not leave it waiting.
            _loopFailure = $"the readers' thread failed: {ex.Message}";
        }
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

            // Polling, not a signal per frame: the readers' loop stays free of it, and the probe's
            // wake-ups every few ms cost the shared cores next to nothing.
            await Task.Delay(5);
        }
    }

    private void AddFailures(List<string> problems)
    {
        if (_loopFailure is { } loop)
        {
            problems.Add(loop);
        }

        var failed = All.Where(r => r.Failure is not null).ToList();
        if (failed.Count > 0)
        {
            problems.Add($"{failed.Count} reader(s) failed, the first: {failed[0].Failure}");
        }
    }
}
