using System.Net.Sockets;
using System.Text;
using Pml.GraphEvents.Reliability.Tests.TestSupport;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>Clients that stop reading, read a byte a second, or stop mid-frame are evicted; nobody else loses an event.</summary>
public sealed class StuckClientTests
{
    private const int Healthy = 20;
    private const int Batch = 16;
    private const int EventBytes = 16 * 1024;
    private const int MaxBatches = 400;

    private static readonly DateTimeOffset Timestamp = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Never_reading_byte_a_second_and_mid_frame_clients_are_evicted_and_healthy_ones_get_everything()
    {
        var token = TestContext.Current.CancellationToken;
        using var logs = new ListLoggerProvider();
        await using var server = await RunningServer.StartAsync(
            settings: new Dictionary<string, string>
            {
                ["GraphEvents:SubscriberBufferCapacity"] = "128",
                ["GraphEvents:Stream:WriteTimeout"] = "00:00:01",

                // 20 healthy and 3 stuck clients, all from 127.0.0.1.
                ["GraphEvents:Stream:MaxStreamsPerAddress"] = "100",
            },
            logger: logs);

        using var stuck = CancellationTokenSource.CreateLinkedTokenSource(token);
        var neverReads = await StuckClient.ConnectAsync(server, "never reads");
        var slowReader = await StuckClient.ConnectAsync(server, "reads a byte a second");
        var midFrame = await StuckClient.ConnectAsync(server, "stops mid-frame");
        StuckClient[] stuckClients = [neverReads, slowReader, midFrame];

        var healthy = new List<RecordingStream>();
        try
        {
            for (var i = 0; i < Healthy; i++)
            {
                healthy.Add(await RecordingStream.OpenAsync(server.Client, server.StreamUri()));
            }

            await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == Healthy + 3, "every client subscribed");

            // The slow reader's behaviour: one byte, then a second's pause, for as long as the
            // server keeps its connection (bounded by the test's deadline).
            var slowReading = slowReader.ReadOneByteASecondAsync(stuck.Token);

            var published = 0;
            var batches = 0;
            var midFrameStopped = false;
            while (batches < MaxBatches && server.Broadcaster.SubscriberCount > Healthy)
            {
                for (var i = 0; i < Batch; i++)
                {
                    await server.Broadcaster.PublishAsync(Big(published++), token);
                }

                batches++;
                if (!midFrameStopped)
                {
                    // Reads into the first event's frame (16 KB) and no further.
                    await midFrame.ReceiveIntoFirstEventAsync(token);
                    midFrameStopped = true;
                }

                // The healthy clients drain each batch before the next, so they provably keep up.
                var expected = published;
                await Eventually.HoldsAsync(() => healthy.All(h => h.CountFrames("workflow_executed") >= expected), () => $"{Healthy} healthy clients received {expected} events");
            }

            Assert.True(server.Broadcaster.SubscriberCount == Healthy, $"Stuck clients still subscribed after {batches} batches: {server.Broadcaster.SubscriberCount - Healthy}.");

            // Each stuck client was evicted, by name: by its write timeout or its full buffer. A
            // lagging subscription leaves the broadcast at once, but its writer logs only when its
            // blocked flush gives up, after the write timeout.
            List<string> Evicted() => [.. logs.Entries.Where(e => e.Id.Id == 3).Select(e => e.Message)];
            await Eventually.HoldsAsync(() => Evicted().Count >= 3, () => $"three evictions logged: {string.Join(" | ", Evicted())}");
            var evicted = Evicted();
            TestContext.Current.TestOutputHelper?.WriteLine($"{batches} batches of {Batch} x {EventBytes} bytes; {string.Join(Environment.NewLine, evicted)}");
            foreach (var client in stuckClients)
            {
                Assert.True(evicted.Any(m => m.Contains(client.ClientId, StringComparison.Ordinal)), $"The client that {client.Behaviour} was not evicted. Evictions: {string.Join(" | ", evicted)}");
            }

            Assert.Equal(3, evicted.Count);
            foreach (var client in healthy)
            {
                var events = client.Frames().Where(f => f.EventType == "workflow_executed").ToList();
                Assert.Equal(published, events.Count);
                Assert.Equal(
                    Enumerable.Range(0, published).Select(i => $"wf-{i}"),
                    events.Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("workflow_id").GetString()));
            }

            await stuck.CancelAsync();
            await Task.WhenAny(slowReading);
        }
        finally
        {
            await stuck.CancelAsync();
            foreach (var client in healthy)
            {
                await client.DisposeAsync();
            }

            foreach (var client in stuckClients)
            {
                client.Dispose();
            }
        }

        await server.AssertHealthyAsync();
    }

    private static WorkflowExecutedEvent Big(int i) =>
        new($"wf-{i}", [.. Enumerable.Range(0, EventBytes / 32).Select(n => $"tool:{i}:{n:D20}")], true, 1, Timestamp);

    /// <summary>A raw socket with a small receive buffer, subscribed, and misbehaving as told.</summary>
    private sealed class StuckClient : IDisposable
    {
        private readonly Socket _socket;
        private readonly byte[] _received;

        private StuckClient(Socket socket, byte[] received, string behaviour)
        {
            _socket = socket;
            _received = received;
            Behaviour = behaviour;
            var text = Encoding.UTF8.GetString(received);
            var at = text.IndexOf("\"client_id\":\"", StringComparison.Ordinal) + 13;
            ClientId = text[at..text.IndexOf('"', at)];
        }

        public string Behaviour { get; }

        public string ClientId { get; }

        public static async Task<StuckClient> ConnectAsync(TestHost server, string behaviour)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(Eventually.Deadline);
            var socket = await RawHttp.ConnectAsync(server.EndPoint, receiveBufferSize: 4096, timeout.Token);
            await socket.SendAsync(RawHttp.Get(RunningServer.StreamPath), timeout.Token);

            // Through the connected frame's data line, so its client id is known.
            var received = await RawHttp.ReceiveUntilAsync(socket, "\"timestamp\"", timeout.Token);
            return new StuckClient(socket, received, behaviour);
        }

        public async Task ReadOneByteASecondAsync(CancellationToken cancellationToken)
        {
            var one = new byte[1];
            var until = DateTime.UtcNow + Eventually.Deadline;
            try
            {
                while (DateTime.UtcNow < until && await _socket.ReceiveAsync(one, cancellationToken) == 1)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                // Stopped by the test, or reset by the server that evicted it.
            }
        }

        public async Task ReceiveIntoFirstEventAsync(CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Eventually.Deadline);
            var more = await RawHttp.ReceiveUntilAsync(_socket, "event: workflow_executed", timeout.Token);
            Assert.Contains("event: workflow_executed", Encoding.UTF8.GetString([.. _received, .. more]), StringComparison.Ordinal);
        }

        public void Dispose() => _socket.Dispose();
    }
}
