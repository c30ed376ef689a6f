using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents;

/// <summary>Registers a host's own event types on the broadcaster that <c>AddGraphEvents</c> adds.</summary>
public static class GraphEventsBuilderEventTypeExtensions
{
    /// <summary>
    /// Lets the broadcaster publish events of type <typeparamref name="TEvent"/> under
    /// <paramref name="name"/>: they are filtered (<c>?types=</c>), replayed, written as SSE and carried
    /// by a backplane like the library's own. Adds to <see cref="GraphEventsOptions.CustomEventTypes"/>;
    /// the rules are those of <see cref="GraphEventTypeRegistry.Add{TEvent}"/>.
    /// </summary>
    /// <remarks>
    /// The name and the type are checked here, against the types registered before on the same
    /// services, so that a bad or repeated registration fails at this line rather than when the host
    /// starts. The registration belongs to this container only.
    /// </remarks>
    /// <typeparam name="TEvent">A concrete record deriving from <see cref="GraphEvent"/>, which passes <paramref name="name"/> to the base constructor.</typeparam>
    /// <param name="builder">What <c>AddGraphEvents</c> returned.</param>
    /// <param name="name">The wire name: 1 to 64 of <c>a-z 0-9 _ . : -</c>, not one of <see cref="GraphEventTypes"/>.</param>
    /// <param name="jsonTypeInfo">Its source-generated JSON contract, e.g. <c>MyEventsJson.Default.CapabilityLearned</c>.</param>
    /// <returns><paramref name="builder"/>, to chain more calls.</returns>
    /// <exception cref="ArgumentException">The name or the type cannot be registered (invalid, reserved, registered already); the message says why.</exception>
    /// <exception cref="InvalidOperationException"><see cref="GraphEventTypeRegistry.MaxCount"/> types are registered already.</exception>
    public static IGraphEventsBuilder AddEventType<TEvent>(this IGraphEventsBuilder builder, string name, JsonTypeInfo<TEvent> jsonTypeInfo)
        where TEvent : GraphEvent
    {
        ArgumentNullException.ThrowIfNull(builder);
        var registration = new EventTypeRegistration<TEvent>(name, jsonTypeInfo);

        // A rehearsal on a registry of its own, with the registrations already made on these
        // services: the same checks, with the same messages, as the options will run at start-up.
        var rehearsal = new GraphEventTypeRegistry();
        foreach (var descriptor in builder.Services)
        {
            if (!descriptor.IsKeyedService && descriptor.ImplementationInstance is EventTypeRegistration earlier)
            {
                earlier.AddTo(rehearsal);
            }
        }

        registration.AddTo(rehearsal);
        builder.Services.AddSingleton<IConfigureOptions<GraphEventsOptions>>(registration);
        return builder;
    }
}
