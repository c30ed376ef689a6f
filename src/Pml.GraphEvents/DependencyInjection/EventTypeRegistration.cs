using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents;

/// <summary>
/// One <c>AddEventType</c> call, kept in the services as the step that adds the type to
/// <see cref="GraphEventsOptions.CustomEventTypes"/> when the options are built (so each container
/// builds its own registry), and found there by the next call's duplicate check.
/// </summary>
internal abstract class EventTypeRegistration : IConfigureOptions<GraphEventsOptions>
{
    public void Configure(GraphEventsOptions options) => AddTo(options.CustomEventTypes);

    public abstract void AddTo(GraphEventTypeRegistry registry);
}

/// <summary>The registration of <typeparamref name="TEvent"/>.</summary>
internal sealed class EventTypeRegistration<TEvent>(string name, JsonTypeInfo<TEvent> jsonTypeInfo) : EventTypeRegistration
    where TEvent : GraphEvent
{
    public override void AddTo(GraphEventTypeRegistry registry) => registry.Add(name, jsonTypeInfo);
}
