namespace Pml.GraphEvents.Reliability.Tests.TestSupport;

/// <summary>
/// A light reader for the load test: finds the <c>id:</c> lines of an SSE body byte by byte, with
/// no allocation and no string, and checks that each id's offset is the one after the previous. Ten million
/// frames through SseParser would cost the two cores more than the server does; the hostile-input
/// tests parse every byte with SseParser instead.
/// </summary>
internal sealed class FrameIdReader
{
    private static readonly byte[] Prefix = "id: "u8.ToArray();

    // -1: inside a line that is not an id line; 0..3: matched that many bytes of "id: " at the
    // start of a line; 4: reading the id's digits.
    private int _state;
    private long _value;
    private long _lastId = -1;
    private long _firstId = -1;
    private string? _error;

    /// <summary>The last id read, or -1 before the first.</summary>
    public long LastId => Volatile.Read(ref _lastId);

    /// <summary>The first id read (the <c>connected</c> frame's), or -1 before it.</summary>
    public long FirstId => Volatile.Read(ref _firstId);

    /// <summary>The first problem seen: an id out of order, or a malformed id line.</summary>
    public string? Error => Volatile.Read(ref _error);

    public void Feed(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (_state == 4)
            {
                if (b is >= (byte)'0' and <= (byte)'9')
                {
                    _value = (_value * 10) + (b - '0');
                }
                else if (b == '-' || b is >= (byte)'a' and <= (byte)'z')
                {
                    // The epoch before the offset ("<epoch>-<offset>"): the offset is what follows the dash.
                    _value = 0;
                }
                else if (b == '\n')
                {
                    Complete(_value);
                    _state = 0;
                }
                else
                {
                    Fail($"a byte 0x{b:x2} in an id line after id {_lastId}");
                    _state = -1;
                }
            }
            else if (b == '\n')
            {
                _state = 0;
            }
            else if (_state >= 0 && b == Prefix[_state])
            {
                _state++;
                if (_state == 4)
                {
                    _value = 0;
                }
            }
            else
            {
                _state = -1;
            }
        }
    }

    private void Complete(long id)
    {
        if (_firstId < 0)
        {
            Volatile.Write(ref _firstId, id);
        }
        else if (id != _lastId + 1)
        {
            Fail($"id {id} after id {_lastId}");
        }

        Volatile.Write(ref _lastId, id);
    }

    private void Fail(string problem) => Interlocked.CompareExchange(ref _error, problem, null);
}
