using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Pml.GraphEvents.Server;

/// <summary>
/// HTTP/1.1 and HTTP/2 on one cleartext endpoint: a Kestrel connection middleware that looks at a
/// new connection's first bytes, without consuming them, and lets Kestrel speak HTTP/2 when they
/// are the HTTP/2 client preface (h2c with prior knowledge, RFC 9113 §3.3), HTTP/1.1 otherwise.
/// </summary>
/// <remarks>
/// <para>
/// Kestrel 10 picks HTTP/1.1 on every cleartext endpoint that allows both, because without TLS
/// there is no ALPN to say which one the client speaks; a prior-knowledge client then gets an
/// empty reply. Kestrel has no public switch for it (dotnet/aspnetcore#56984). Kestrel's protocol
/// selection reads two connection features, <see cref="ITlsConnectionFeature"/> (is this TLS?)
/// and <see cref="ITlsApplicationProtocolFeature"/> (what did ALPN choose?), once, when the
/// connection reaches its HTTP layer. So a connection that opens with the preface is given both,
/// saying "TLS, h2", for exactly that moment: the protocol is read right after the TLS question
/// was asked, and reading it withdraws both features. Everything after the choice sees the
/// connection as it is, cleartext: <c>Request.Scheme</c> is <c>http</c> (so the client's
/// <c>:scheme http</c> matches and <c>AllowAlternateSchemes</c> stays off), <c>IsHttps</c> is
/// false, there is no client certificate, and HTTP/2's TLS checks (which read
/// <see cref="ITlsHandshakeFeature"/>, never set here) do not run. If a later Kestrel read the
/// features in another order, h2c would fail in the tests (HTTP/1.1 chosen, or a reset stream),
/// never silently on HTTP/1.1 clients, whose connections this never touches.
/// </para>
/// <para>
/// The bytes are only peeked: every read is advanced with nothing consumed, so Kestrel reads the
/// same bytes first. The choice is made at the first byte that differs from the preface, so an
/// HTTP/1.1 request is not delayed (its first byte differs, except <c>POST</c>, <c>PUT</c> and
/// <c>PATCH</c>, which differ at their second). While it waits, no Kestrel timeout runs yet (they
/// start in the HTTP layer), so the wait has its own bound, with the meaning Kestrel gives the
/// same options: <see cref="ServerOptions.IdleConnectionTimeout"/> for a connection that has sent
/// nothing (as for HTTP/1.1 before its first request), <see cref="ServerOptions.RequestHeadersTimeout"/>
/// from the first byte for one that sent part of the preface; then the connection is closed. A
/// graceful stop closes a connection still waiting at once: it has no request in progress.
/// </para>
/// <para>
/// The alternative, routing h2c connections to a second, HTTP/2-only listener through an internal
/// proxy, costs a copy of every byte and a second connection, and hides the client's address
/// from the per-address limits; a second public port would not be "the same endpoint". Remove
/// this once Kestrel selects h2c by itself (dotnet/aspnetcore#67782): then it is harmless anyway,
/// as a TLS connection never opens with the preface.
/// </para>
/// </remarks>
internal sealed partial class Http2PriorKnowledge
{
    private static readonly ReadOnlyMemory<byte> H2 = "h2"u8.ToArray();

    private readonly ConnectionDelegate _next;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _headersTimeout;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public Http2PriorKnowledge(ConnectionDelegate next, TimeSpan idleTimeout, TimeSpan headersTimeout, TimeProvider timeProvider, ILogger logger)
    {
        _next = next;
        _idleTimeout = idleTimeout;
        _headersTimeout = headersTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>What the look at a connection's first bytes came to.</summary>
    internal enum Verdict
    {
        /// <summary>A prefix of the preface, or nothing yet: wait for more.</summary>
        Undecided,
        Http1,
        Http2,

        /// <summary>Its bound passed first: close.</summary>
        TimedOut,

        /// <summary>The server is stopping: close.</summary>
        Stopping,

        /// <summary>Reset or aborted meanwhile: nothing to do.</summary>
        Gone,
    }

    /// <summary>The HTTP/2 client connection preface (RFC 9113 §3.4): 24 bytes.</summary>
    internal static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Adds the middleware to <paramref name="listen"/> when it allows both HTTP/1.1 and HTTP/2.</summary>
    public static void Use(ListenOptions listen, ServerOptions options)
    {
        listen.Use(next =>
        {
            // Built when the server binds, after configuration (Kestrel:Endpoints:X:Protocols,
            // Kestrel:EndpointDefaults:Protocols) has set the endpoint's protocols: an endpoint
            // that allows one protocol only needs no choice. It runs before TLS where there is
            // TLS, whose first byte (a handshake record, 0x16) ends the look at once.
            var protocols = listen.Protocols;
            if (!protocols.HasFlag(HttpProtocols.Http1) || !protocols.HasFlag(HttpProtocols.Http2))
            {
                return next;
            }

            var logger = listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<Http2PriorKnowledge>();

            // The system clock, as Kestrel's own timeouts use: this bound takes their place for
            // the first bytes, and the server's TimeProvider (which tests replace) drives events.
            return new Http2PriorKnowledge(next, options.IdleConnectionTimeout, options.RequestHeadersTimeout, TimeProvider.System, logger).OnConnectionAsync;
        });
    }

    /// <summary>Whether <paramref name="buffer"/>, a connection's first bytes, is the preface, cannot be, or may still be.</summary>
    internal static Verdict Classify(in ReadOnlySequence<byte> buffer)
    {
        var preface = Preface;
        var length = (int)Math.Min(buffer.Length, preface.Length);
        Span<byte> head = stackalloc byte[preface.Length];
        buffer.Slice(0, length).CopyTo(head);
        if (!head[..length].SequenceEqual(preface[..length]))
        {
            return Verdict.Http1;
        }

        return length == preface.Length ? Verdict.Http2 : Verdict.Undecided;
    }

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        var stopping = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        Verdict verdict;
        using (var deadline = new CancellationTokenSource(_idleTimeout, _timeProvider))
        using (stopping.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), deadline))
        {
            verdict = await ReadPrefaceAsync(connection.Transport.Input, deadline, stopping);
        }

        switch (verdict)
        {
            case Verdict.Http2:
                Select(connection.Features);
                break;
            case Verdict.TimedOut:
                // Returning closes the connection gracefully (Kestrel disposes it), as Kestrel
                // closes one at its own keep-alive timeout.
                LogTimedOut(_logger, connection.ConnectionId);
                return;
            case Verdict.Stopping or Verdict.Gone:
                return;
        }

        await _next(connection);
    }

    private async Task<Verdict> ReadPrefaceAsync(PipeReader input, CancellationTokenSource deadline, CancellationToken stopping)
    {
        var started = false;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(deadline.Token);
                var buffer = result.Buffer;
                var verdict = Classify(buffer);
                if (verdict != Verdict.Undecided || result.IsCompleted || result.IsCanceled)
                {
                    // Nothing consumed, nothing examined: Kestrel's first read returns these bytes
                    // at once. A connection that ended inside the preface goes to HTTP/1.1, which
                    // answers or closes it as it would have before.
                    input.AdvanceTo(buffer.Start);
                    return verdict == Verdict.Undecided ? Verdict.Http1 : verdict;
                }

                if (!started && !buffer.IsEmpty)
                {
                    // The client has begun: from now on it has the time a request's headers have.
                    started = true;
                    deadline.CancelAfter(_headersTimeout);
                }

                // All examined: the next read waits for bytes that have not arrived yet.
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return stopping.IsCancellationRequested ? Verdict.Stopping : Verdict.TimedOut;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Reset or aborted by the client or by Kestrel (ConnectionAbortedException is an
            // OperationCanceledException): nothing to answer, and not an error of the server.
            return Verdict.Gone;
        }
    }

    private static void Select(IFeatureCollection features)
    {
        var selection = new Http2Selection(features);
        features.Set<ITlsConnectionFeature>(selection);
        features.Set<ITlsApplicationProtocolFeature>(selection);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} closed: no request, or only part of the HTTP/2 preface, within the connection's time limit")]
    private static partial void LogTimedOut(ILogger logger, string connectionId);

    /// <summary>
    /// What Kestrel's protocol selection reads, present only until it has read it: "TLS" for the
    /// question whether ALPN applies, "h2" as ALPN's answer. Reading the answer takes both away.
    /// </summary>
    private sealed class Http2Selection(IFeatureCollection features) : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public ReadOnlyMemory<byte> ApplicationProtocol
        {
            get
            {
                // Read once, on the connection's own task, right after the TLS question: from
                // here on the connection is the cleartext one it is.
                features.Set<ITlsConnectionFeature>(null);
                features.Set<ITlsApplicationProtocolFeature>(null);
                return H2;
            }
        }

        public X509Certificate2? ClientCertificate
        {
            get => null;
            set => throw new NotSupportedException("A cleartext connection has no client certificate.");
        }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
