namespace Pml.GraphEvents;

/// <summary>Creates broadcasters for hosts that do not use dependency injection.</summary>
public static class GraphEventBroadcaster
{
    /// <summary>
    /// Creates and starts a broadcaster. With dependency injection, use <c>services.AddGraphEvents()</c> instead.
    /// </summary>
    /// <param name="options">Its settings; defaults when <see langword="null"/>. Its <see cref="GraphEventsOptions.CustomEventTypes"/> is frozen: the broadcaster's for its life.</param>
    /// <param name="timeProvider">Its clock for heartbeats and timestamps; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static IGraphEventBroadcaster Create(GraphEventsOptions? options = null, TimeProvider? timeProvider = null)
    {
        options ??= new GraphEventsOptions();
        var failures = options.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        return new Broadcaster(options, timeProvider ?? TimeProvider.System);
    }
}
