using System.Text;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Sse;

/// <summary>
/// Every event type against a checked-in approved frame: the wire schema is a contract, so any
/// change to a name, an order or a number format must show up as a diff of an approved file.
/// On a mismatch the actual frame is written next to the approved one as <c>.received.txt</c>.
/// </summary>
public sealed class FrameApprovalTests
{
    public static TheoryData<string> EventTypes() => new(SampleEvents.All().Select(e => e.EventType));

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void Frame_matches_the_approved_bytes(string eventType)
    {
        var sample = SampleEvents.All().Single(e => e.EventType == eventType);
        // A fixed epoch, so that the approved bytes are stable: "id: <epoch>-<offset>".
        var id = sample is HeartbeatEvent or EventsLostEvent ? null : new EventIdPrefix("k3v9q2m8xz");

        var actual = Encoding.UTF8.GetString(SseFrameEncoder.Encode(id, 7, sample));

        Approvals.Verify($"frames/{eventType}.txt", actual);
    }

    [Fact]
    public void Retry_and_comment_lines_are_well_formed()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        SseFrameEncoder.WriteRetry(buffer, TimeSpan.FromSeconds(3));
        SseFrameEncoder.WriteComment(buffer, "hello\nevent: injected\r\ndata: x");

        Assert.Equal("retry: 3000\n: hello\n: event: injected\n: data: x\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
