using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Redis;

/// <summary>Fails host start-up on invalid <see cref="RedisBackplaneOptions"/>, with a message naming each bad option.</summary>
/// <param name="shared">Set when the backplane runs on the application's multiplexer, which makes connection settings unnecessary.</param>
internal sealed class RedisBackplaneOptionsValidator(RedisSharedMultiplexer? shared = null) : IValidateOptions<RedisBackplaneOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisBackplaneOptions options)
    {
        var failures = options.Validate(needsConnection: shared is null);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
