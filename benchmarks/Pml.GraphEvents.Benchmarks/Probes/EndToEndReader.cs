using System.Buffers.Text;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// What one SSE client of the probe reads (its connection, <see cref="EndToEndSseConnection"/>,
/// feeds it). Cheap on CPU, so that it leaves the shared cores to the server: it does not parse
/// JSON; per chunk read it takes one timestamp, and per frame it reads only the <c>id:</c> and <c>event:</c> lines (and, for
/// <c>workflow_executed</c>, the execution id at the start of the data line). It checks, from its
/// <c>connected</c> frame on, that event ids run on one by one in one epoch; anything else (a gap,
/// a repeat, <c>events_lost</c>, the stream ending) is recorded in <see cref="Failure"/>.
/// </summary>
internal sealed class EndToEndReader
{
    private static readonly byte[] WorkflowIdMarker = "\"workflow_id\":\""u8.ToArray();

    private byte[]? _epoch;
    private long _lastOffset = -1;
    private long _totalEvents;
    private long _events;
    private long _executions;
    private long _lastAt;
    private int _connected;
    private string? _failure;
    private EndToEndDeliveryLatency? _latency;
    private byte[] _carry = new byte[4096];
    private int _carried;

    /// <summary>Whether the <c>connected</c> frame has arrived.</summary>
    public bool Connected => Volatile.Read(ref _connected) != 0;

    /// <summary>The offset of the last event received, -1 before the first.</summary>
    public long LastOffset => Volatile.Read(ref _lastOffset);

    /// <summary>Events received since the stream opened.</summary>
    public long TotalEvents => Volatile.Read(ref _totalEvents);

    /// <summary>Events received since <see cref="Arm"/>.</summary>
    public long Events => Volatile.Read(ref _events);

    /// <summary><c>workflow_executed</c> frames of measured executions received since <see cref="Arm"/>.</summary>
    public long Executions => Volatile.Read(ref _executions);

    /// <summary>When the last event since <see cref="Arm"/> was read (a Stopwatch timestamp), 0 if none.</summary>
    public long LastAt => Volatile.Read(ref _lastAt);

    /// <summary>Why this reader's stream is not a valid measurement, or null.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>
    /// Starts counting a measured run, timing <c>workflow_executed</c> frames into
    /// <paramref name="latency"/>. Called while no event is in flight (the probe checks that every
    /// reader holds the graph's last event first), so the reader's thread sees no half-reset state.
    /// </summary>
    public void Arm(EndToEndDeliveryLatency latency)
    {
        Volatile.Write(ref _events, 0);
        Volatile.Write(ref _executions, 0);
        Volatile.Write(ref _lastAt, 0);
        Volatile.Write(ref _latency, latency);
    }

    /// <summary>
    /// Reads the stream's next bytes (the response body, HTTP framing taken off), read at
    /// <paramref name="now"/>: every frame they complete, a frame's start kept for the next call.
    /// </summary>
    public void Feed(ReadOnlySpan<byte> bytes, long now)
    {
        if (_carried == 0)
        {
            // The usual case: the bytes end with a whole frame (the server writes whole frames),
            // and are read where they are.
            var consumed = ReadFrames(bytes, now);
            Carry(bytes[consumed..]);
            return;
        }

        Carry(bytes);
        var read = ReadFrames(_carry.AsSpan(0, _carried), now);
        _carry.AsSpan(read, _carried - read).CopyTo(_carry);
        _carried -= read;
    }

    /// <summary>Records why this reader's stream is not a valid measurement (the first reason wins).</summary>
    public void Fail(string reason) => Interlocked.CompareExchange(ref _failure, reason, null);

    private void Carry(ReadOnlySpan<byte> bytes)
    {
        if (_carried + bytes.Length > _carry.Length)
        {
            Array.Resize(ref _carry, Math.Max(_carry.Length * 2, _carried + bytes.Length));
        }

        bytes.CopyTo(_carry.AsSpan(_carried));
        _carried += bytes.Length;
    }

    // The complete frames at the start of data (each ends with a blank line); returns the bytes read.
    private int ReadFrames(ReadOnlySpan<byte> data, long now)
    {
        var position = 0;
        int end;
        while ((end = data[position..].IndexOf("\n\n"u8)) >= 0)
        {
            ReadFrame(data.Slice(position, end + 1), now);
            position += end + 2;
        }

        return position;
    }

    private void ReadFrame(ReadOnlySpan<byte> frame, long now)
    {
        ReadOnlySpan<byte> id = default, type = default, data = default;
        while (!frame.IsEmpty)
        {
            var newline = frame.IndexOf((byte)'\n');
            var line = frame[..newline];
            if (line.StartsWith("data:"u8))
            {
                data = frame; // the last field of the server's frames: the rest is its JSON, not scanned line by line
                break;
            }

            if (line.StartsWith("id: "u8))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: "u8))
            {
                type = line[7..];
            }

            frame = frame[(newline + 1)..];
        }

        if (type.SequenceEqual("connected"u8))
        {
            // Its id is the last event before this client's stream: the next event must follow it.
            if (EndToEndEventId.TrySplit(id, out var epoch, out var offset))
            {
                _epoch = epoch.ToArray();
                Volatile.Write(ref _lastOffset, offset);
            }

            Volatile.Write(ref _connected, 1);
            return;
        }

        if (type.SequenceEqual("heartbeat"u8) || (type.IsEmpty && id.IsEmpty))
        {
            return; // not an event of the graph (a heartbeat, a comment, the retry field alone)
        }

        if (type.SequenceEqual("events_lost"u8))
        {
            Fail("events_lost: the server dropped this client's events");
            return;
        }

        if (!EndToEndEventId.TrySplit(id, out var eventEpoch, out var eventOffset))
        {
            Fail($"a {System.Text.Encoding.UTF8.GetString(type)} frame without an id of the form <epoch>-<offset>");
            return;
        }

        if (_epoch is null || !eventEpoch.SequenceEqual(_epoch) || eventOffset != _lastOffset + 1)
        {
            Fail($"event {System.Text.Encoding.UTF8.GetString(id)} came after offset {_lastOffset} of epoch {(_epoch is null ? "(none)" : System.Text.Encoding.UTF8.GetString(_epoch))}");
        }

        Volatile.Write(ref _lastOffset, eventOffset);
        Volatile.Write(ref _totalEvents, _totalEvents + 1);
        if (Volatile.Read(ref _latency) is not { } latency)
        {
            return;
        }

        Volatile.Write(ref _events, _events + 1);
        Volatile.Write(ref _lastAt, now);
        if (type.SequenceEqual("workflow_executed"u8) && TryReadExecution(data, out var execution))
        {
            latency.Received(execution, now);
            Volatile.Write(ref _executions, _executions + 1);
        }
    }

    // The N of a measured execution's id "eN", from data: {"workflow_id":"eN",...
    private static bool TryReadExecution(ReadOnlySpan<byte> data, out long execution)
    {
        execution = 0;
        var at = data.IndexOf(WorkflowIdMarker);
        if (at < 0)
        {
            return false;
        }

        var id = data[(at + WorkflowIdMarker.Length)..];
        return id.Length > 1 && id[0] == (byte)'e' && Utf8Parser.TryParse(id[1..], out execution, out var consumed)
            && 1 + consumed < id.Length && id[1 + consumed] == (byte)'"';
    }

}
