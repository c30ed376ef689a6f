using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Redis;

/// <summary>Fails host start-up on invalid <see cref="RedisBackplaneOptions"/>, with a message naming each bad option.</summary>
internal sealed class RedisBackplaneOptionsValidator : IValidateOptions<RedisBackplaneOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisBackplaneOptions options)
    {
        var failures = options.Validate();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
