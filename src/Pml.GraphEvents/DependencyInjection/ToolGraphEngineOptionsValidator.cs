using Microsoft.Extensions.Options;

namespace Pml.GraphEvents;

/// <summary>Fails host start-up on invalid <see cref="ToolGraphEngineOptions"/>, with a message naming each bad option.</summary>
internal sealed class ToolGraphEngineOptionsValidator : IValidateOptions<ToolGraphEngineOptions>
{
    public ValidateOptionsResult Validate(string? name, ToolGraphEngineOptions options)
    {
        var failures = options.Validate();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
