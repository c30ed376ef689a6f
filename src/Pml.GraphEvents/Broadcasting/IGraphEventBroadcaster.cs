namespace Pml.GraphEvents;

/// <summary>
/// The broadcaster: publishers write to one bounded ingress channel, and a single pump encodes
/// each event once and hands the same bytes to every subscriber's own bounded buffer.
/// Create one with <see cref="GraphEventBroadcaster.Create"/> or <c>services.AddGraphEvents()</c>.
/// </summary>
public interface IGraphEventBroadcaster : IGraphEventPublisher, IGraphEventSubscriber, IAsyncDisposable, IDisposable
{
    /// <summary>Counters since the broadcaster started.</summary>
    GraphEventBroadcasterStatistics GetStatistics();
}
