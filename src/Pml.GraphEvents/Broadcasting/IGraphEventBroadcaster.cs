namespace Pml.GraphEvents;

/// <summary>
/// The broadcaster: publishers write to one bounded ingress channel, and a single pump encodes
/// each event once and hands the same bytes to every subscriber's own bounded buffer.
/// Create one with <see cref="GraphEventBroadcaster.Create"/> or <c>services.AddGraphEvents()</c>.
/// </summary>
/// <remarks>
/// Dispose it with <see cref="IAsyncDisposable.DisposeAsync"/> (<c>await using</c>): it delivers
/// what was accepted, then ends every subscription. There is no public synchronous <c>Dispose</c>,
/// because it could only block on that. A dependency-injection container that is disposed
/// synchronously still disposes the broadcaster it created: the implementation is
/// <see cref="IDisposable"/> for the container's sake.
/// </remarks>
public interface IGraphEventBroadcaster : IGraphEventPublisher, IGraphEventSubscriber, IAsyncDisposable
{
    /// <summary>Counters since the broadcaster started.</summary>
    GraphEventBroadcasterStatistics GetStatistics();
}
