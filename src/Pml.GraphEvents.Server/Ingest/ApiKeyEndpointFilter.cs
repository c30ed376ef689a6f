using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Server;

/// <summary>Requires <see cref="ServerOptions.ApiKey"/> in its header when one is configured; answers 401 otherwise.</summary>
internal sealed class ApiKeyEndpointFilter(IOptions<ServerOptions> options) : IEndpointFilter
{
    private readonly byte[]? _expected = options.Value.ApiKey is { } key ? Encoding.UTF8.GetBytes(key.Trim()) : null;
    private readonly string _header = options.Value.ApiKeyHeader;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (_expected is null)
        {
            return next(context);
        }

        var given = context.HttpContext.Request.Headers[_header].ToString();
        // Constant-time comparison, so the time of a refusal does not tell how much of a guess was right.
        if (given.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _expected))
        {
            return next(context);
        }

        return ValueTask.FromResult<object?>(Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "API key required",
            detail: $"Send the server's API key in the {_header} header."));
    }
}
