using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents;

/// <summary>
/// Reads a resume's gap from the durable <see cref="IGraphEventLog"/>: the frames the ring no
/// longer holds, rebuilt from the log's records with the same ids and data, a page at a time.
/// </summary>
internal sealed partial class LogReplaySource(IGraphEventLog log, EventIdPrefix ids, GraphEventTypeRegistry customTypes, TimeProvider timeProvider, ILogger? logger) : IReplaySource
{
    /// <summary>Records read per page: bounds what one resuming client holds (about 256 × a frame) and how long one read holds the log.</summary>
    internal const int PageSize = 256;

    public Task<ReplayPage> FetchAsync(long afterOffset, long throughOffset, GraphEventKind mask) =>
        // The log is read synchronously (SQLite has no asynchronous I/O); off the caller's thread,
        // which is a subscribe call or a reader's WaitToReadAsync.
        Task.Run(() => ReadPage(afterOffset, throughOffset, mask));

    private ReplayPage ReadPage(long afterOffset, long throughOffset, GraphEventKind mask)
    {
        List<GraphEventFrame> frames = [];
        try
        {
            // Retention may have removed the oldest part since the subscription was planned: the
            // count is exact, because offsets are consecutive in one log.
            var floor = log.State.Floor;
            if (afterOffset < floor)
            {
                frames.Add(GraphEventFrame.Create(new EventsLostEvent(EventsLostReasons.ReplayWindowExceeded, Math.Min(floor, throughOffset) - afterOffset, timeProvider.GetUtcNow())));
                afterOffset = Math.Min(floor, throughOffset);
            }

            var records = afterOffset < throughOffset ? log.Read(afterOffset, throughOffset, PageSize) : [];
            foreach (var record in records)
            {
                var graphEvent = GraphEventJson.DeserializeBroadcast(record.EventType, record.Data.Span, customTypes, out var contract);
                if (graphEvent is null || contract is null)
                {
                    // A host's type that is no longer registered: it cannot be delivered as a typed
                    // event, and no filter could select it. Its offset is passed, not replayed.
                    continue;
                }

                if ((contract.Kind & mask) != 0)
                {
                    frames.Add(GraphEventFrame.Create(ids, record.Offset, graphEvent, contract, record.Data.Span, 0));
                }
            }

            var next = records.Count < PageSize ? throughOffset : records[^1].Offset;
            return new ReplayPage([.. frames], next);
        }
#pragma warning disable CA1031 // A resuming client must be told it lost events, whatever went wrong.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (logger is not null)
            {
                LogReadFailed(logger, afterOffset, ex);
            }

            frames.Add(GraphEventFrame.Create(new EventsLostEvent(EventsLostReasons.ReplayWindowExceeded, null, timeProvider.GetUtcNow())));
            return new ReplayPage([.. frames], throughOffset);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A resume after offset {AfterOffset} could not be read from the event log; the client is told it lost events")]
    private static partial void LogReadFailed(ILogger logger, long afterOffset, Exception exception);
}
