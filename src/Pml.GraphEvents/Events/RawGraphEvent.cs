namespace Pml.GraphEvents;

/// <summary>
/// An event of a type the reader does not know: its name and its <c>data</c> JSON as they came.
/// <see cref="GraphEventStreamClient"/> yields one for every frame whose name is neither one of
/// <see cref="GraphEventTypes"/> nor registered in its <see cref="GraphEventStreamClientOptions.CustomEventTypes"/>
/// (a type the server's host added, or one a newer server sends), instead of dropping it.
/// </summary>
/// <remarks>
/// It is for reading only: a broadcaster refuses to publish one, since it has no registered type
/// (and so no name checked at registration) to go on the wire under.
/// </remarks>
public sealed record RawGraphEvent : GraphEvent
{
    /// <summary>Creates a raw event.</summary>
    /// <param name="eventType">The frame's <c>event:</c> name, as received.</param>
    /// <param name="data">The frame's <c>data:</c> text, as received.</param>
    /// <param name="timestamp">The data's top-level <c>timestamp</c>, or <see langword="default"/> when it has none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="eventType"/> or <paramref name="data"/> is <see langword="null"/>.</exception>
    public RawGraphEvent(string eventType, string data, DateTimeOffset timestamp)
        : base(eventType, timestamp)
    {
        ArgumentNullException.ThrowIfNull(data);
        Data = data;
    }

    /// <summary>The frame's <c>data:</c> text, as received (normally one JSON object).</summary>
    public string Data { get; }
}
