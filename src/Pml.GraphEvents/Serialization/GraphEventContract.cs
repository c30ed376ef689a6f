using System.Text;
using System.Text.Json.Serialization.Metadata;

namespace Pml.GraphEvents;

/// <summary>
/// Everything the pipeline needs to know about one event type, resolved once: its wire name (and
/// the frame's <c>event:</c> line, pre-encoded), its filter bit, and how to write and read its
/// <c>data</c> JSON. The library's eight types have one each (<see cref="BuiltInEventContracts"/>);
/// a host's types get one when they are registered (<see cref="GraphEventTypeRegistry"/>). An event
/// travels through the broadcaster with its contract, so the pump and the fan-out never search for it.
/// </summary>
internal abstract class GraphEventContract
{
    private readonly byte[] _eventLine;

    private protected GraphEventContract(string name, GraphEventKind kind, Type eventClrType)
    {
        Name = name;
        Kind = kind;
        EventClrType = eventClrType;

        // The name was checked to be ASCII (a built-in constant, or a registered name), so this is
        // its exact UTF-8 form; written once per type instead of once per frame.
        _eventLine = Encoding.ASCII.GetBytes($"event: {name}\ndata: ");
    }

    /// <summary>The wire name: a <see cref="GraphEventTypes"/> constant or a registered, validated name.</summary>
    public string Name { get; }

    /// <summary>This type's bit in a subscriber's filter.</summary>
    public GraphEventKind Kind { get; }

    /// <summary>The CLR type of the events this contract writes and reads (exactly that type).</summary>
    public Type EventClrType { get; }

    /// <summary>Whether this is one of the library's own types.</summary>
    public bool IsBuiltIn => (Kind & GraphEventKind.Custom) == 0;

    /// <summary><c>event: &lt;name&gt;\ndata: </c> as UTF-8: the part of a frame between its <c>id:</c> line and its JSON.</summary>
    public ReadOnlySpan<byte> EventLine => _eventLine;

    /// <summary>Writes the <c>data</c> JSON of <paramref name="graphEvent"/>, an event of <see cref="EventClrType"/>.</summary>
    public abstract void WriteData(Utf8JsonWriter writer, GraphEvent graphEvent);

    /// <summary>The data JSON through the type's metadata, even when <see cref="WriteData"/> writes it by hand (tests compare the two).</summary>
    public abstract void WriteDataThroughMetadata(Utf8JsonWriter writer, GraphEvent graphEvent);

    /// <summary>Reads one event of this type from its <c>data</c> JSON.</summary>
    /// <exception cref="JsonException">The JSON does not fit the type, is <c>null</c>, or gives an event of another name.</exception>
    public abstract GraphEvent Read(ReadOnlySpan<byte> utf8Json);

    /// <summary>
    /// An upper bound of <see cref="WriteData"/>'s output in bytes from string lengths alone
    /// (see <see cref="EncodedSize"/>), or <see langword="null"/> when the type has none: a host's
    /// type is measured by encoding it, once, at publish.
    /// </summary>
    public abstract long? DataBound(GraphEvent graphEvent);

    /// <summary>
    /// The first field the strict JSON serializer cannot write (JSON has no NaN or infinity), as
    /// <c>name (value)</c> in wire names; <see langword="null"/> when every field can be written, or
    /// when the type does not say (a host's type: its serializer's error says it at publish).
    /// </summary>
    public abstract string? FindUnencodableField(GraphEvent graphEvent);
}

/// <summary>The contract of events of type <typeparamref name="TEvent"/>, written and read through its source-generated metadata.</summary>
internal sealed class GraphEventContract<TEvent> : GraphEventContract
    where TEvent : GraphEvent
{
    private readonly JsonTypeInfo<TEvent> _typeInfo;
    private readonly Func<TEvent, long>? _dataBound;
    private readonly Func<TEvent, string?>? _unencodable;
    private readonly Action<Utf8JsonWriter, TEvent>? _write;

    /// <param name="name">The event name.</param>
    /// <param name="kind">The library type's bit, or none for a host's type.</param>
    /// <param name="typeInfo">The type's metadata: how it is read, and written unless <paramref name="write"/> is given.</param>
    /// <param name="dataBound">An upper bound of the data's size from string lengths, when the type has one.</param>
    /// <param name="unencodable">Finds a field JSON cannot carry (a NaN), when the type can have one.</param>
    /// <param name="write">Writes the data by hand, the same bytes as <paramref name="typeInfo"/> would (see <see cref="BuiltInEventWriters"/>).</param>
    public GraphEventContract(string name, GraphEventKind kind, JsonTypeInfo<TEvent> typeInfo, Func<TEvent, long>? dataBound = null, Func<TEvent, string?>? unencodable = null, Action<Utf8JsonWriter, TEvent>? write = null)
        : base(name, kind, typeof(TEvent))
    {
        _typeInfo = typeInfo;
        _dataBound = dataBound;
        _unencodable = unencodable;
        _write = write;
    }

    public override void WriteData(Utf8JsonWriter writer, GraphEvent graphEvent)
    {
        if (_write is not null)
        {
            _write(writer, (TEvent)graphEvent);
            return;
        }

        JsonSerializer.Serialize(writer, (TEvent)graphEvent, _typeInfo);
    }

    public override void WriteDataThroughMetadata(Utf8JsonWriter writer, GraphEvent graphEvent) =>
        JsonSerializer.Serialize(writer, (TEvent)graphEvent, _typeInfo);

    public override GraphEvent Read(ReadOnlySpan<byte> utf8Json)
    {
        var graphEvent = JsonSerializer.Deserialize(utf8Json, _typeInfo)
            ?? throw new JsonException($"The data of a '{Name}' event is null.");

        // A host's record passes its name to the base constructor; one that passes another name
        // would be yielded under a name it did not come with.
        if (!string.Equals(graphEvent.EventType, Name, StringComparison.Ordinal))
        {
            throw new JsonException($"'{Name}' is registered for {typeof(TEvent).FullName}, whose events are named '{GraphEventTypeRegistry.Printable(graphEvent.EventType)}'.");
        }

        return graphEvent;
    }

    public override long? DataBound(GraphEvent graphEvent) => _dataBound?.Invoke((TEvent)graphEvent);

    public override string? FindUnencodableField(GraphEvent graphEvent) => _unencodable?.Invoke((TEvent)graphEvent);
}
