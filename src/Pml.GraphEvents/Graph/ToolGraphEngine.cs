namespace Pml.GraphEvents;

/// <summary>Creates tool graph engines for hosts that do not use dependency injection.</summary>
public static class ToolGraphEngine
{
    /// <summary>Creates an engine with an empty graph. With dependency injection, use <c>AddToolGraphEngine()</c> instead.</summary>
    /// <param name="publisher">Where its events go, usually the broadcaster.</param>
    /// <param name="store">Where the graph is kept; a new <see cref="InMemoryToolGraphStore"/> when <see langword="null"/>.</param>
    /// <param name="options">Its settings; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock of event timestamps and sync durations; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <remarks>
    /// The engine refuses an execution whose events would be larger than
    /// <see cref="GraphEventsOptions.MaxEventBytes"/> before it learns anything. It takes that limit
    /// from <paramref name="publisher"/> when it is a broadcaster made by
    /// <see cref="GraphEventBroadcaster.Create"/>, and uses the option's default (1 MiB) for any other publisher.
    /// </remarks>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static IToolGraphEngine Create(
        IGraphEventPublisher publisher,
        IToolGraphStore? store = null,
        ToolGraphEngineOptions? options = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        options ??= new ToolGraphEngineOptions();
        var failures = options.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        // The engine checks its events against the size limit of the broadcaster it publishes to,
        // before it learns; another publisher gets the broadcaster's default limit.
        var maxEventBytes = publisher is Broadcaster broadcaster ? broadcaster.MaxEventBytes : ToolGraphEngineCore.DefaultMaxEventBytes;
        return new ToolGraphEngineCore(publisher, store ?? new InMemoryToolGraphStore(), options, timeProvider ?? TimeProvider.System, maxEventBytes);
    }
}
