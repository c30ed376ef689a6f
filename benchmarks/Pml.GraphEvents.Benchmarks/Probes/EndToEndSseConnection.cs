using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// One stream client's connection on a raw socket: <c>GET /events/stream</c> over HTTP/1.1, the
/// response head checked (200, chunked or not), the chunked framing taken off and the body fed to
/// its <see cref="EndToEndReader"/>. The server flushes a batch of frames as one chunk, so the
/// chunks counted since <see cref="Arm"/> are its writes to this client. Not thread-safe: one
/// thread (<see cref="EndToEndReaders"/>' loop) receives for every connection.
/// </summary>
internal sealed class EndToEndSseConnection : IDisposable
{
    private readonly byte[] _head = new byte[4096];
    private readonly byte[] _sizeLine = new byte[64];
    private State _state = State.Head;
    private int _headLength;
    private int _sizeLineLength;
    private long _left;
    private int _crlfLeft;
    private long _chunks;

    private EndToEndSseConnection(Socket socket, EndToEndReader reader)
    {
        Socket = socket;
        Reader = reader;
    }

    private enum State
    {
        Head,
        SizeLine,
        Data,
        DataEnd,
        UntilClose,
        Ended,
    }

    public Socket Socket { get; }

    public EndToEndReader Reader { get; }

    /// <summary>HTTP chunks received since <see cref="Arm"/>: the server's writes to this client.</summary>
    public long Chunks => Volatile.Read(ref _chunks);

    public bool Ended => _state == State.Ended;

    /// <summary>Connects and sends the request; the socket is then non-blocking, for the receiving loop.</summary>
    public static EndToEndSseConnection Open(IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(server);
        socket.Send(Encoding.ASCII.GetBytes($"GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}\r\nAccept: text/event-stream\r\n\r\n"));
        socket.Blocking = false;
        return new EndToEndSseConnection(socket, new EndToEndReader());
    }

    public void Arm(EndToEndDeliveryLatency latency)
    {
        Volatile.Write(ref _chunks, 0);
        Reader.Arm(latency);
    }

    /// <summary>
    /// Receives what the socket holds into <paramref name="buffer"/> and reads it; false once the
    /// stream has ended (the reader then holds why).
    /// </summary>
    public bool Receive(byte[] buffer, long now)
    {
        var received = Socket.Receive(buffer, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return true;
        }

        if (error != SocketError.Success || received == 0)
        {
            End(error == SocketError.Success ? "the server ended the stream" : $"the stream broke: {error}");
            return false;
        }

        Decode(buffer.AsSpan(0, received), now);
        return _state != State.Ended;
    }

    public void Dispose() => Socket.Dispose();

    private void Decode(ReadOnlySpan<byte> bytes, long now)
    {
        while (!bytes.IsEmpty && _state != State.Ended)
        {
            switch (_state)
            {
                case State.Head:
                    bytes = ReadHead(bytes);
                    break;
                case State.UntilClose:
                    Reader.Feed(bytes, now);
                    bytes = default;
                    break;
                case State.Data:
                    var take = (int)Math.Min(_left, bytes.Length);
                    Reader.Feed(bytes[..take], now);
                    bytes = bytes[take..];
                    _left -= take;
                    if (_left == 0)
                    {
                        (_state, _crlfLeft) = (State.DataEnd, 2);
                    }

                    break;
                case State.DataEnd:
                    // The CRLF after a chunk's data.
                    var skip = Math.Min(_crlfLeft, bytes.Length);
                    bytes = bytes[skip..];
                    _crlfLeft -= skip;
                    if (_crlfLeft == 0)
                    {
                        _state = State.SizeLine;
                    }

                    break;
                default:
                    bytes = ReadSizeLine(bytes);
                    break;
            }
        }
    }

    private ReadOnlySpan<byte> ReadHead(ReadOnlySpan<byte> bytes)
    {
        var take = Math.Min(bytes.Length, _head.Length - _headLength);
        bytes[..take].CopyTo(_head.AsSpan(_headLength));
        var end = _head.AsSpan(0, _headLength + take).IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            _headLength += take;
            if (_headLength == _head.Length)
            {
                End("the response head is over 4 KB");
            }

            return default;
        }

        var rest = bytes[(end + 4 - _headLength)..];
        var head = Encoding.ASCII.GetString(_head, 0, end);
        if (!head.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
        {
            End($"GET /events/stream answered {head.Split('\r')[0]}");
            return default;
        }

        _state = head.Contains("transfer-encoding: chunked", StringComparison.OrdinalIgnoreCase) ? State.SizeLine : State.UntilClose;
        return rest;
    }

    private ReadOnlySpan<byte> ReadSizeLine(ReadOnlySpan<byte> bytes)
    {
        var newline = bytes.IndexOf((byte)'\n');
        var take = newline < 0 ? bytes.Length : newline + 1;
        if (_sizeLineLength + take > _sizeLine.Length)
        {
            End("a chunk size line is over 64 bytes");
            return default;
        }

        bytes[..take].CopyTo(_sizeLine.AsSpan(_sizeLineLength));
        _sizeLineLength += take;
        if (newline < 0)
        {
            return default;
        }

        var line = _sizeLine.AsSpan(0, _sizeLineLength);
        var digits = line[..line.IndexOfAny(";\r\n"u8)];
        _sizeLineLength = 0;
        if (!Utf8Parser.TryParse(digits, out long size, out var consumed, 'X') || consumed != digits.Length)
        {
            End("a chunk size line that is not hexadecimal");
            return default;
        }

        if (size == 0)
        {
            End("the server ended the stream"); // the last chunk
            return default;
        }

        _left = size;
        _state = State.Data;
        Volatile.Write(ref _chunks, _chunks + 1);
        return bytes[take..];
    }

    private void End(string reason)
    {
        _state = State.Ended;
        Reader.Fail(reason);
    }
}
