using Microsoft.Extensions.Options;

namespace Pml.GraphEvents;

/// <summary>
/// Fails host start-up on invalid <typeparamref name="TOptions"/>, with the messages of the options'
/// own <c>Validate()</c>, each naming the bad option by its configuration key. The one adapter every
/// package of this repository registers for its options (<c>GraphEvents</c>, <c>GraphEvents:Engine</c>,
/// <c>GraphEvents:Stream</c>, <c>GraphEvents:Redis</c>, the server's <c>Server</c>).
/// </summary>
/// <remarks>
/// The check itself stays on the options class, where the factories that take options without a
/// container (<c>GraphEventBroadcaster.Create</c>, <c>ToolGraphEngine.Create</c>) call it too; this
/// only turns its list of failures into a <see cref="ValidateOptionsResult"/>. It takes the check as a
/// delegate rather than through an interface because one check needs more than the options: the Redis
/// backplane asks for connection settings only when the container holds no connection of the
/// application's (<c>provider =&gt; new(o =&gt; o.Validate(needsConnection: ...))</c>).
/// </remarks>
/// <param name="validate">Every problem with the options; empty when they are valid.</param>
internal sealed class OptionsValidator<TOptions>(Func<TOptions, List<string>> validate) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = validate(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
