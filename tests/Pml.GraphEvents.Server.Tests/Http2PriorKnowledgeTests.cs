using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Pml.GraphEvents.Server.Tests;

/// <summary>
/// The look at a connection's first bytes, on in-memory pipes with a fake clock: when it decides,
/// what it hands on (the same bytes, unconsumed), and when it gives up. The real thing, Kestrel
/// with HttpClient, curl and raw sockets, is in the reliability suite (Http2Tests).
/// </summary>
public sealed class Http2PriorKnowledgeTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Headers = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("PO")]
    [InlineData("PRI * HTTP/1.1\r\n")]
    [InlineData("\u0016\u0003\u0001")]
    public async Task Bytes_that_leave_the_preface_go_to_HTTP11_at_once_unconsumed(string first)
    {
        await using var connection = new TestConnection();
        await connection.SendAsync(first);

        // Decided without more bytes and without time passing.
        var handedOn = await connection.HandedOnAsync();
        Assert.Null(handedOn.Features.Get<ITlsConnectionFeature>());
        Assert.Null(handedOn.Features.Get<ITlsApplicationProtocolFeature>());

        // Kestrel's first read returns the same bytes at once, though no byte came since.
        Assert.Equal(first, await connection.ReadAllAvailableAsync());
    }

    [Fact]
    public async Task POST_is_decided_at_its_second_byte()
    {
        await using var connection = new TestConnection();
        await connection.SendAsync("P");
        Assert.False(connection.HandedOn.IsCompleted);

        await connection.SendAsync("O");
        await connection.HandedOnAsync();
        Assert.Equal("PO", await connection.ReadAllAvailableAsync());
    }

    [Fact]
    public async Task The_preface_selects_HTTP2_and_leaves_a_cleartext_connection_once_Kestrel_has_chosen()
    {
        await using var connection = new TestConnection();
        await connection.SendAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u0001\u0002");
        var features = (await connection.HandedOnAsync()).Features;

        // What Kestrel's protocol selection reads, in its order: TLS?, then ALPN's choice.
        Assert.NotNull(features.Get<ITlsConnectionFeature>());
        var protocol = features.Get<ITlsApplicationProtocolFeature>()!.ApplicationProtocol;
        Assert.Equal("h2", Encoding.ASCII.GetString(protocol.Span));

        // From then on the connection is what it is: no TLS, no client certificate.
        Assert.Null(features.Get<ITlsConnectionFeature>());
        Assert.Null(features.Get<ITlsApplicationProtocolFeature>());
        Assert.Null(features.Get<ITlsHandshakeFeature>());
        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u0001\u0002", await connection.ReadAllAvailableAsync());
    }

    [Fact]
    public async Task A_preface_in_pieces_is_still_HTTP2()
    {
        await using var connection = new TestConnection();
        foreach (var piece in new[] { "P", "RI * HT", "TP/2.0\r\n\r\nSM\r\n\r", "\n" })
        {
            Assert.False(connection.HandedOn.IsCompleted);
            await connection.SendAsync(piece);
        }

        Assert.NotNull((await connection.HandedOnAsync()).Features.Get<ITlsApplicationProtocolFeature>());
        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", await connection.ReadAllAvailableAsync());
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_at_the_idle_timeout()
    {
        await using var connection = new TestConnection();
        connection.Time.Advance(Idle - Tick);
        Assert.False(connection.Running.IsCompleted);

        connection.Time.Advance(Tick);
        await connection.EndedAsync();
        Assert.False(connection.HandedOn.IsCompleted);
    }

    [Fact]
    public async Task Part_of_the_preface_has_the_headers_timeout_from_its_first_byte_however_it_trickles()
    {
        await using var connection = new TestConnection();
        connection.Time.Advance(Headers);
        await connection.SendAsync("P");

        // Past the idle timeout now: the first byte replaced it.
        connection.Time.Advance(Headers - Tick);
        await connection.SendAsync("RI");
        Assert.False(connection.Running.IsCompleted);

        // A byte does not restart the bound: it counts from the first.
        connection.Time.Advance(Tick);
        await connection.EndedAsync();
        Assert.False(connection.HandedOn.IsCompleted);
    }

    [Fact]
    public async Task A_graceful_stop_closes_a_connection_still_waiting()
    {
        await using var connection = new TestConnection();
        await connection.SendAsync("PRI *");
        await connection.Lifetime.RequestCloseAsync();
        await connection.EndedAsync();
        Assert.False(connection.HandedOn.IsCompleted);
    }

    [Fact]
    public async Task A_connection_that_ends_inside_the_preface_goes_to_HTTP11_with_its_bytes()
    {
        await using var connection = new TestConnection();
        await connection.SendAsync("PRI *");
        await connection.ToServer.Writer.CompleteAsync();

        await connection.HandedOnAsync();
        var result = await connection.Context.Transport.Input.ReadAsync(TestContext.Current.CancellationToken);
        Assert.Equal("PRI *", Encoding.ASCII.GetString(result.Buffer.ToArray()));
        Assert.True(result.IsCompleted);
        connection.Context.Transport.Input.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task A_reset_while_waiting_ends_the_connection_quietly()
    {
        await using var connection = new TestConnection();
        await connection.SendAsync("PR");
        await connection.ToServer.Writer.CompleteAsync(new ConnectionResetException("reset by the client"));
        await connection.EndedAsync();
        Assert.False(connection.HandedOn.IsCompleted);
    }

    /// <summary>A connection on in-memory pipes that run continuations inline, so each step has happened when it returns.</summary>
    private sealed class TestConnection : IAsyncDisposable
    {
        private readonly TaskCompletionSource<ConnectionContext> _handedOn = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TestConnection()
        {
            var options = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
            ToServer = new Pipe(options);
            FromServer = new Pipe(options);
            Context = new DefaultConnectionContext("test", new Duplex(ToServer.Reader, FromServer.Writer), new Duplex(FromServer.Reader, ToServer.Writer));
            Context.Features.Set<IConnectionLifetimeNotificationFeature>(Lifetime);
            var middleware = new Http2PriorKnowledge(
                next: async context =>
                {
                    _handedOn.TrySetResult(context);
                    await _release.Task;
                },
                Idle,
                Headers,
                Time,
                NullLogger.Instance);
            Running = middleware.OnConnectionAsync(Context);
        }

        public FakeTimeProvider Time { get; } = new();

        public StopRequests Lifetime { get; } = new();

        public Pipe ToServer { get; }

        public Pipe FromServer { get; }

        public DefaultConnectionContext Context { get; }

        /// <summary>Completes when the middleware hands the connection on (to Kestrel's HTTP layer).</summary>
        public Task<ConnectionContext> HandedOn => _handedOn.Task;

        /// <summary>Completes when the middleware returns (after the next delegate, or having closed the connection).</summary>
        public Task Running { get; }

        // Bounded waits: a middleware that never decides fails the test instead of hanging it.
        public Task<ConnectionContext> HandedOnAsync() => HandedOn.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);

        public Task EndedAsync() => Running.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);

        public async Task SendAsync(string text)
        {
            await ToServer.Writer.WriteAsync(Encoding.Latin1.GetBytes(text));
        }

        /// <summary>What the next reader (Kestrel) gets at once: fails if the read would wait.</summary>
        public async Task<string> ReadAllAvailableAsync()
        {
            var input = Context.Transport.Input;
            var read = input.ReadAsync(TestContext.Current.CancellationToken);
            if (!read.IsCompleted)
            {
                input.CancelPendingRead();
                Assert.Fail("The next read waited for bytes that had already come.");
            }

            var result = await read;
            var text = Encoding.Latin1.GetString(result.Buffer.ToArray());
            input.AdvanceTo(result.Buffer.End);
            return text;
        }

        public async ValueTask DisposeAsync()
        {
            _release.TrySetResult();
            await ToServer.Writer.CompleteAsync();
            await Running.WaitAsync(Eventually.Deadline, CancellationToken.None);
            Lifetime.Dispose();
        }
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>Kestrel's "the server is stopping, close when you can" for one connection.</summary>
    private sealed class StopRequests : IConnectionLifetimeNotificationFeature, IDisposable
    {
        private readonly CancellationTokenSource _source = new();

        public CancellationToken ConnectionClosedRequested
        {
            get => _source.Token;
            set => throw new NotSupportedException();
        }

        public void RequestClose() => _source.Cancel();

        public Task RequestCloseAsync() => _source.CancelAsync();

        public void Dispose() => _source.Dispose();
    }
}
