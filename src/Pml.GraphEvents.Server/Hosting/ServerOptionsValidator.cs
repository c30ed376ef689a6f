using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Server;

/// <summary>Stops the server at start-up on invalid <see cref="ServerOptions"/>, naming each bad option.</summary>
internal sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        var failures = options.Validate();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
