using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Sse;

/// <summary>What a backplane stores (type and data JSON) gives back the same event.</summary>
public sealed class DataRoundTripTests
{
    [Fact]
    public void Every_broadcast_event_reads_back_from_its_data_json()
    {
        foreach (var graphEvent in SampleEvents.All())
        {
            var json = GraphEventJson.SerializeToUtf8Bytes(graphEvent);
            var read = GraphEventJson.DeserializeBroadcast(graphEvent.EventType, json);
            if (graphEvent.Kind is GraphEventKind.Connected or GraphEventKind.Heartbeat or GraphEventKind.EventsLost)
            {
                Assert.Null(read);
                continue;
            }

            Assert.NotNull(read);
            Assert.Equal(graphEvent.GetType(), read.GetType());
            var ids = new EventIdPrefix(GraphEventId.NewEpoch());
            Assert.Equal(SseFrameEncoder.Encode(ids, 7, graphEvent), SseFrameEncoder.Encode(ids, 7, read));
        }
    }

    [Fact]
    public void An_unknown_type_reads_as_nothing() =>
        Assert.Null(GraphEventJson.DeserializeBroadcast("bogus", "{}"u8));
}
