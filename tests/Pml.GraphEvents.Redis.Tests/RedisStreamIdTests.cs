namespace Pml.GraphEvents.Redis.Tests;

public sealed class RedisStreamIdTests
{
    [Theory]
    [InlineData("0-0", 0L)]
    [InlineData("0-1", 1L)]
    [InlineData("1-0", 1L << 20)]
    [InlineData("1764585000123-7", (1764585000123L << 20) | 7)]
    [InlineData("8796093022207-1048575", long.MaxValue)]
    public void Stream_ids_encode_reversibly(string streamId, long expected)
    {
        Assert.True(RedisStreamId.TryEncode(streamId, out var id));
        Assert.Equal(expected, id);
        Assert.Equal(streamId, RedisStreamId.Format(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("-1")]
    [InlineData("1-")]
    [InlineData("1-1048576")]
    [InlineData("8796093022208-0")]
    [InlineData("1-x")]
    public void Ids_out_of_range_or_malformed_are_refused(string streamId) =>
        Assert.False(RedisStreamId.TryEncode(streamId, out _));

    [Fact]
    public void Encoding_keeps_the_stream_order()
    {
        string[] ordered = ["1-0", "1-1", "1-1048575", "2-0", "1764585000123-0", "1764585000124-3"];
        var ids = ordered.Select(s => RedisStreamId.TryEncode(s, out var id) ? id : -1).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
