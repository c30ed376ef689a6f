using System.Buffers;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Server;

/// <summary><c>POST /executions</c>: learn from one execution or an array of them.</summary>
internal static class IngestEndpoint
{
    public static RouteHandlerBuilder MapIngest(this IEndpointRouteBuilder endpoints, string pattern) =>
        endpoints.MapPost(pattern, HandleAsync)
            .AddEndpointFilter<ApiKeyEndpointFilter>()
            .DisableAntiforgery();

    private static async Task<IResult> HandleAsync(HttpContext context, IToolGraphEngine engine, IOptions<ServerOptions> options, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!IsJson(request.ContentType))
        {
            return Results.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported content type",
                detail: $"Send application/json (was {(string.IsNullOrEmpty(request.ContentType) ? "none" : request.ContentType)}).");
        }

        var limit = options.Value.MaxBodyBytes;
        if (request.ContentLength > limit)
        {
            return TooLarge(limit);
        }

        var body = await ReadLimitedAsync(request.Body, limit, cancellationToken);
        if (body is null)
        {
            return TooLarge(limit);
        }

        var (executions, errors) = ExecutionPayloadParser.Parse(body.Value);
        if (executions is null)
        {
            return Results.ValidationProblem(errors, detail: "The body is not an execution or an array of executions; see errors, keyed by field.");
        }

        // Learned one at a time, in order, before answering: a client that gets 202 and then
        // reads /graph sees its executions. The engine runs changes one at a time anyway.
        var unknown = new SortedSet<string>(StringComparer.Ordinal);
        var accepted = new List<string>(executions.Count);
        foreach (var execution in executions)
        {
            var graph = engine.Snapshot;
            foreach (var task in execution.Tasks)
            {
                if (!graph.ContainsTool(task.Tool))
                {
                    unknown.Add(task.Tool);
                }
            }

            await engine.UpdateFromExecutionAsync(execution, cancellationToken);
            accepted.Add(execution.Id);
        }

        return Results.Json(new IngestResponse(accepted, [.. unknown]), ServerJsonContext.Default.IngestResponse, statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult TooLarge(long limit) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Body too large",
        detail: $"The body must be at most {limit:N0} bytes.");

    private static bool IsJson(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    // Reads at most limit + 1 bytes: a chunked body has no Content-Length to refuse up front, and
    // buffering an unbounded body is what the limit is there to prevent.
    private static async Task<ReadOnlyMemory<byte>?> ReadLimitedAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenMemory;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }
}
