using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>Adds the stream's named CORS policy, built from <see cref="GraphEventStreamOptions.AllowedOrigins"/>.</summary>
internal sealed class GraphEventStreamCorsSetup(IOptions<GraphEventStreamOptions> streamOptions) : IConfigureOptions<CorsOptions>
{
    /// <summary>Request headers a cross-origin reader may send: a fetch-based client sends Last-Event-ID itself.</summary>
    private static readonly string[] AllowedHeaders = ["Last-Event-ID", "Cache-Control", "Accept"];

    public void Configure(CorsOptions options) =>
        options.AddPolicy(GraphEventStreamOptions.CorsPolicyName, Build(streamOptions.Value));

    public static CorsPolicy Build(GraphEventStreamOptions options)
    {
        var allowList = new OriginAllowList(options.EffectiveAllowedOrigins);
        var builder = new CorsPolicyBuilder()
            .WithMethods(HttpMethodsAllowed.Get)
            .WithHeaders(AllowedHeaders)
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10));

        // A predicate, not WithOrigins: WithOrigins compares normalized strings and has no port
        // wildcard; the predicate compares parsed scheme, host and port.
        return (allowList.AllowsAnyOrigin ? builder.AllowAnyOrigin() : builder.SetIsOriginAllowed(allowList.IsAllowed)).Build();
    }
}
