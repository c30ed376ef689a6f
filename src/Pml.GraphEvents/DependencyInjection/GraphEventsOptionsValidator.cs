using Microsoft.Extensions.Options;

namespace Pml.GraphEvents;

/// <summary>Fails host start-up on invalid <see cref="GraphEventsOptions"/>, with a message naming each bad option.</summary>
internal sealed class GraphEventsOptionsValidator : IValidateOptions<GraphEventsOptions>
{
    public ValidateOptionsResult Validate(string? name, GraphEventsOptions options)
    {
        var failures = options.Validate();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
