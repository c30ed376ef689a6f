using System.Collections.Frozen;
using System.Text;
using System.Text.Json.Serialization.Metadata;

namespace Pml.GraphEvents;

/// <summary>
/// A host's own event types: for each, the wire name its events go under and its JSON contract
/// (source-generated <see cref="JsonTypeInfo{T}"/>). One registry belongs to one broadcaster
/// (<see cref="GraphEventsOptions.CustomEventTypes"/>, or <c>AddEventType</c> on <c>AddGraphEvents()</c>),
/// which hands it on to its Redis backplane; a client has its own
/// (<see cref="GraphEventStreamClientOptions.CustomEventTypes"/>) to read those types back typed.
/// There is no process-wide registry: two broadcasters in one process know their own types.
/// </summary>
/// <remarks>
/// <para>
/// Register every type before the registry is used: the broadcaster or the client created with it
/// freezes it, and <see cref="Add{TEvent}"/> then throws (a type added later would have no bit in
/// the filters already handed out). Every member is thread-safe; a frozen registry is read without a lock.
/// </para>
/// <para>
/// The library's own types (<see cref="GraphEventTypes"/>) are always known and are not in a registry;
/// their names are reserved.
/// </para>
/// </remarks>
public sealed class GraphEventTypeRegistry
{
    /// <summary>
    /// The most types one registry holds: each takes one bit of the 64-bit word that is a
    /// subscriber's filter, above the library's eight, so that the broadcaster's fan-out checks any
    /// filter with one AND.
    /// </summary>
    public const int MaxCount = 56;

    /// <summary>The longest name, in characters.</summary>
    public const int MaxNameLength = 64;

    private readonly List<GraphEventContract> _contracts = [];
    private readonly Lock _freezing = new();
    private Table? _table;

    /// <summary>How many types are registered.</summary>
    public int Count
    {
        get
        {
            lock (_freezing)
            {
                return _contracts.Count;
            }
        }
    }

    /// <summary>The registered names, in the order they were registered (a copy).</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_freezing)
            {
                return [.. _contracts.Select(c => c.Name)];
            }
        }
    }

    /// <summary>
    /// Registers events of type <typeparamref name="TEvent"/> under <paramref name="name"/>, written
    /// and read with <paramref name="jsonTypeInfo"/>.
    /// </summary>
    /// <typeparam name="TEvent">
    /// A concrete record deriving from <see cref="GraphEvent"/> that passes <paramref name="name"/> to
    /// the base constructor. Exactly this type: an event of a type derived from it is not registered by this.
    /// </typeparam>
    /// <param name="name">
    /// The wire name (the frame's <c>event:</c> line, the <c>?types=</c> name): 1 to 64 characters,
    /// each a lower-case ASCII letter, a digit, or one of <c>_ . : -</c>; not one of <see cref="GraphEventTypes"/>.
    /// </param>
    /// <param name="jsonTypeInfo">
    /// Its JSON contract, from a source-generated <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>
    /// (no reflection, trimming-safe), e.g. <c>MyEventsJson.Default.CapabilityLearned</c>. Use
    /// <c>PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower</c> to match the library's events;
    /// the output is written as one line whatever the context's indentation setting.
    /// </param>
    /// <returns>This registry, to chain registrations.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="jsonTypeInfo"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// The name is not valid or is a library name; the name or the type is registered already; or the
    /// type is abstract or one of the library's. The message says which.
    /// </exception>
    /// <exception cref="InvalidOperationException">The registry is frozen (in use), or holds <see cref="MaxCount"/> types already.</exception>
    public GraphEventTypeRegistry Add<TEvent>(string name, JsonTypeInfo<TEvent> jsonTypeInfo)
        where TEvent : GraphEvent
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(jsonTypeInfo);
        if (ValidateName(name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }

        var type = typeof(TEvent);
        if (type.IsAbstract)
        {
            throw new ArgumentException($"{type.FullName} is abstract: register the concrete record that is published under '{name}'.", nameof(jsonTypeInfo));
        }

        if (type.Assembly == typeof(GraphEvent).Assembly)
        {
            throw new ArgumentException($"{type.FullName} is one of the library's own types, which are always known; register a type of your own.", nameof(jsonTypeInfo));
        }

        lock (_freezing)
        {
            if (_table is not null)
            {
                throw new InvalidOperationException($"Event type '{name}' was registered after this registry came into use (by a broadcaster or a client); register every type before.");
            }

            foreach (var existing in _contracts)
            {
                if (existing.Name == name)
                {
                    throw new ArgumentException($"Event type '{name}' is registered already, for {existing.EventClrType.FullName}: one type per name.", nameof(name));
                }

                if (existing.EventClrType == type)
                {
                    throw new ArgumentException($"{type.FullName} is registered already, as '{existing.Name}': one name per type.", nameof(jsonTypeInfo));
                }
            }

            if (_contracts.Count >= MaxCount)
            {
                throw new InvalidOperationException($"A registry holds at most {MaxCount} event types; '{name}' would be one more.");
            }

            var kind = (GraphEventKind)((ulong)GraphEventKind.FirstCustom << _contracts.Count);
            _contracts.Add(new GraphEventContract<TEvent>(name, kind, jsonTypeInfo));
        }

        return this;
    }

    /// <summary>Whether <paramref name="name"/> is a registered name (case-sensitive, as on the wire). The library's names are not registered names.</summary>
    /// <param name="name">A name.</param>
    public bool Contains(string? name) => name is not null && Find(name) is not null;

    /// <summary>
    /// Whether <paramref name="name"/> may be registered as far as its text goes: 1 to
    /// <see cref="MaxNameLength"/> characters, each a lower-case ASCII letter, a digit, or one of
    /// <c>_ . : -</c>, and not one of <see cref="GraphEventTypes"/>.
    /// </summary>
    /// <param name="name">A name.</param>
    public static bool IsValidName(string? name) => name is not null && ValidateName(name) is null;

    /// <summary>
    /// Makes the registry read-only (idempotent, thread-safe): its contracts are then read from
    /// frozen dictionaries without a lock, which is what the broadcaster's publish path and the
    /// backplane's reader do.
    /// </summary>
    internal void Freeze()
    {
        if (Volatile.Read(ref _table) is null)
        {
            lock (_freezing)
            {
                // Published once, with a full fence, after it is complete.
                Volatile.Write(ref _table, _table ?? new Table(_contracts));
            }
        }
    }

    /// <summary>The contract registered under <paramref name="name"/>, or <see langword="null"/>.</summary>
    internal GraphEventContract? Find(string name)
    {
        if (Volatile.Read(ref _table) is { } table)
        {
            return table.ByName.GetValueOrDefault(name);
        }

        // Not in use yet (a check while registering, a one-off read): a scan of a few entries.
        lock (_freezing)
        {
            return _contracts.Find(c => string.Equals(c.Name, name, StringComparison.Ordinal));
        }
    }

    /// <summary>The contract registered for exactly <paramref name="type"/>, or <see langword="null"/>.</summary>
    internal GraphEventContract? Find(Type type)
    {
        if (Volatile.Read(ref _table) is { } table)
        {
            return table.ByType.GetValueOrDefault(type);
        }

        lock (_freezing)
        {
            return _contracts.Find(c => c.EventClrType == type);
        }
    }

    /// <summary>Why <paramref name="name"/> cannot be registered, or <see langword="null"/> when it can.</summary>
    internal static string? ValidateName(string name)
    {
        if (name.Length == 0)
        {
            return "An event type name must not be empty.";
        }

        if (name.Length > MaxNameLength)
        {
            return $"Event type name '{Printable(name)}' has {name.Length} characters; at most {MaxNameLength} are allowed.";
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.' or ':' or '-'))
            {
                return $"Event type name '{Printable(name)}' has {Describe(c)} at position {i}; a name may hold only lower-case ASCII letters, digits, '_', '.', ':' and '-'.";
            }
        }

        if (GraphEventTypes.IsKnown(name))
        {
            return $"'{name}' is one of the library's event names ({string.Join(", ", GraphEventTypes.All)}), which are reserved.";
        }

        return null;
    }

    /// <summary>
    /// <paramref name="text"/> for an error message: control characters and everything outside
    /// printable ASCII as <c>\uXXXX</c>, cut at 80 characters, so that a bad name cannot break a log line.
    /// </summary>
    internal static string Printable(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, 80) + 8);
        foreach (var c in text.Length > 80 ? text.AsSpan(0, 80) : text)
        {
            if (c is >= ' ' and <= '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
        }

        return text.Length > 80 ? builder.Append('…').ToString() : builder.ToString();
    }

    private static string Describe(char c) =>
        c is >= ' ' and <= '~' ? $"'{c}'" : $"U+{(int)c:X4}";

    /// <summary>The frozen lookups, built once when the registry comes into use.</summary>
    private sealed class Table(List<GraphEventContract> contracts)
    {
        public FrozenDictionary<string, GraphEventContract> ByName { get; } = contracts.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal);

        public FrozenDictionary<Type, GraphEventContract> ByType { get; } = contracts.ToFrozenDictionary(c => c.EventClrType);
    }
}
