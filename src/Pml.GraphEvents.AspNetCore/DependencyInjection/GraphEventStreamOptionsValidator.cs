using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>Fails host start-up on invalid <see cref="GraphEventStreamOptions"/>, with a message naming each bad option.</summary>
internal sealed class GraphEventStreamOptionsValidator : IValidateOptions<GraphEventStreamOptions>
{
    public ValidateOptionsResult Validate(string? name, GraphEventStreamOptions options)
    {
        var failures = options.Validate();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
