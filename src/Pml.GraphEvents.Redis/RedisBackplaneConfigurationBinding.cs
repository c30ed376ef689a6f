using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Redis;

/// <summary>
/// Binds <see cref="RedisBackplaneOptions"/> from the <c>GraphEvents:Redis</c> section of the host's <see cref="IConfiguration"/>, which it
/// takes from the container when the options are first built, not when the services are added: a host
/// that registers its configuration after calling the <c>AddX</c> method is bound all the same, and one
/// without configuration keeps the defaults (and whatever code sets). Registered before any code
/// <c>configure</c> delegate, so code wins over configuration.
/// </summary>
internal sealed class RedisBackplaneConfigurationBinding(IConfiguration? configuration = null) : IConfigureOptions<RedisBackplaneOptions>
{
    public void Configure(RedisBackplaneOptions options) => configuration?.GetSection(RedisBackplaneOptions.SectionName).Bind(options);
}
