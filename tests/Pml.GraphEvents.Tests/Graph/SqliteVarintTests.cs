using Pml.GraphEvents.Sqlite;

namespace Pml.GraphEvents.Tests.Graph;

/// <summary>The varints of the SQLite file's packed rows: the bytes for known values, and what a reader refuses.</summary>
public sealed class SqliteVarintTests
{
    [Theory]
    [InlineData(0UL, new byte[] { 0x00 })]
    [InlineData(127UL, new byte[] { 0x7F })]
    [InlineData(128UL, new byte[] { 0x80, 0x01 })]
    [InlineData(300UL, new byte[] { 0xAC, 0x02 })]
    [InlineData((ulong)int.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x07 })]
    [InlineData(ulong.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void A_value_is_written_as_LEB128_and_read_back(ulong value, byte[] expected)
    {
        var span = new byte[10];
        var written = SqliteVarint.Write(span, value);
        Assert.Equal(expected, span[..written]);

        var at = 0;
        Assert.True(SqliteVarint.TryRead(span.AsSpan(0, written), ref at, out var read));
        Assert.Equal((value, written), (read, at));

        at = 0;
        var fitsInt = value <= int.MaxValue;
        Assert.Equal(fitsInt, SqliteVarint.TryReadInt(span.AsSpan(0, written), ref at, out var readInt));
        if (fitsInt)
        {
            Assert.Equal(((int)value, written), (readInt, at));
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x80 })] // ends inside the number
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x08 })] // 2^31: past int.MaxValue
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F })] // would wrap in 32 bits
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 })] // six bytes
    public void A_count_or_length_that_is_not_one_is_refused(byte[] data)
    {
        var at = 0;
        Assert.False(SqliteVarint.TryReadInt(data, ref at, out _));
    }
}
