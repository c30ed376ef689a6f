namespace Pml.GraphEvents;

/// <summary>
/// What the <see cref="GraphEventsMetrics"/> meter reads when a listener collects: the counters a
/// broadcaster keeps. Defined here, on the meter's side, so that the meter knows no broadcaster:
/// the broadcaster reports to the meter (it attaches itself and hands its instruments to stream
/// writers), and nothing in this folder depends on the broadcasting code.
/// </summary>
internal interface IGraphEventStatisticsSource
{
    /// <summary>The counters now; read on a collection, never on the hot path.</summary>
    GraphEventBroadcasterStatistics GetStatistics();
}
