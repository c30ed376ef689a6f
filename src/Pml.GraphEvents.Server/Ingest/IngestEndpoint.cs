using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Server;

/// <summary><c>POST /executions</c>: learn from one execution or an array of them.</summary>
internal static partial class IngestEndpoint
{
    internal const string LoggerCategory = "Pml.GraphEvents.Server.Ingest";

    public static RouteHandlerBuilder MapIngest(this IEndpointRouteBuilder endpoints, string pattern) =>
        endpoints.MapPost(pattern, HandleAsync)
            .AddEndpointFilter<ApiKeyEndpointFilter>()
            .DisableAntiforgery();

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        IToolGraphEngine engine,
        IExecutionIngest ingest,
        IOptions<ServerOptions> options,
        IOptions<GraphEventsOptions> eventOptions,
        IOptions<ToolGraphEngineOptions> engineOptions,
        PendingBodyBudget budget,
        StoreFailureLog storeFailures,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (RefuseMediaType(request) is { } unsupported)
        {
            return unsupported;
        }

        var limit = options.Value.MaxBodyBytes;
        if (request.ContentLength > limit)
        {
            return TooLarge(limit);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // One byte over ours, so that ours answers first, with its own message.
            sizeFeature.MaxRequestBodySize = limit + 1;
        }

        var logger = loggers.CreateLogger(LoggerCategory);
        var reservation = new Reservation(budget);
        try
        {
            // A declared length is taken in full before a byte is read: a client that declares
            // 1 MB and sends 1 MB - 1 has made the server hold 1 MB.
            if (request.ContentLength is { } declared && !reservation.TryGrowTo(declared))
            {
                return Busy(context, logger, budget);
            }

            ReadOnlyMemory<byte>? body;
            try
            {
                // The time limit (Server:BodyReadTimeout) is Kestrel's minimum body data rate, set
                // from it: Kestrel then fails the read with a 408 itself and closes cleanly, where a
                // cancelled read would leave its body reader unable to finish the connection.
                body = await ReadLimitedAsync(request.Body, request.ContentLength, limit, reservation, cancellationToken);
            }
            catch (BadHttpRequestException ex)
            {
                // The client's fault (a bad chunk, a body shorter than declared, too slow): Kestrel
                // says which status fits. Not an error of the server, so not logged as one.
                LogBadBody(logger, ex.StatusCode, ex);
                CloseAfterResponse(context);
                return Results.Problem(
                    statusCode: ex.StatusCode,
                    title: ex.StatusCode == StatusCodes.Status408RequestTimeout ? "Body too slow" : "Bad request body",
                    detail: ex.StatusCode == StatusCodes.Status408RequestTimeout
                        ? $"The body must arrive within {options.Value.BodyReadTimeout.TotalSeconds:0.###} seconds."
                        : ex.Message);
            }
            catch (InvalidOperationException ex)
            {
                // Kestrel refuses a trailer it cannot store (a NUL in it) this way, not as a bad
                // request, and its body reader cannot go on: it could neither finish this body nor
                // keep the connection (it would log that at error level). The connection is closed.
                LogBadBody(logger, StatusCodes.Status400BadRequest, ex);
                context.Abort();
                return Results.Empty;
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
            {
                // The client went away mid-body (a reset, an abort): nobody is left to answer.
                LogBodyAborted(logger, ex);
                return Results.Empty;
            }
            catch (IOException ex)
            {
                // Anything else the body reader throws while the client is still there is about the bytes it sent.
                LogBadBody(logger, StatusCodes.Status400BadRequest, ex);
                CloseAfterResponse(context);
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request body", detail: ex.Message);
            }

            if (body is null)
            {
                return reservation.Refused ? Busy(context, logger, budget) : TooLarge(limit);
            }

            return await LearnAsync(context, storeFailures, engine, ingest, body.Value, eventOptions.Value.MaxEventBytes, engineOptions.Value.MaxEdgesPerExecution, cancellationToken);
        }
        finally
        {
            reservation.Dispose();
        }
    }

    private static async Task<IResult> LearnAsync(HttpContext context, StoreFailureLog storeFailures, IToolGraphEngine engine, IExecutionIngest ingest, ReadOnlyMemory<byte> body, int maxEventBytes, int maxEdges, CancellationToken cancellationToken)
    {
        var (executions, errors) = ExecutionPayloadParser.Parse(body);
        if (executions is null)
        {
            return Results.ValidationProblem(errors, detail: "The body is not an execution or an array of executions; see errors, keyed by field.");
        }

        // Every execution is checked before any is learned: an array is refused or learned whole
        // as far as the bounds go, never half.
        var tooLarge = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (execution, tasksPath) in executions)
        {
            var edges = ExecutionLimits.EdgeObservations(execution);
            if (edges > maxEdges)
            {
                errors[tasksPath] = [$"The execution makes {edges:N0} edge observations; at most {maxEdges:N0} (GraphEvents:Engine:MaxEdgesPerExecution)."];
            }

            var frame = ExecutionLimits.FrameBytesIfOver(execution, maxEventBytes);
            if (frame > 0)
            {
                tooLarge[tasksPath] = [$"Its workflow_executed event would be {frame:N0} bytes encoded (JSON escaping included); at most {maxEventBytes:N0} (GraphEvents:MaxEventBytes)."];
            }
        }

        if (errors.Count > 0)
        {
            foreach (var (path, messages) in tooLarge)
            {
                errors[path] = errors.TryGetValue(path, out var existing) ? [.. existing, .. messages] : messages;
            }

            return Results.ValidationProblem(errors, detail: "An execution is over a bound; see errors, keyed by field.");
        }

        if (tooLarge.Count > 0)
        {
            return Results.ValidationProblem(tooLarge, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Event too large", detail: "An execution's event would be too large to stream; see errors, keyed by field.");
        }

        // One batch, all or nothing: with the SQLite store the whole body's graph change, its
        // learned ids and its events are one transaction, so a crash never leaves half of an array
        // learned. Learned before answering: a client that gets 202 and then reads /graph sees it.
        var batch = new WorkflowExecution[executions.Count];
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i] = executions[i].Execution;
        }

        var graph = engine.Snapshot;
        var unknown = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var execution in batch)
        {
            foreach (var task in execution.Tasks)
            {
                if (!graph.ContainsTool(task.Tool))
                {
                    unknown.Add(task.Tool);
                }
            }
        }

        ExecutionIngestResult result;
        try
        {
            // One instance: learned before the answer. On Redis: in the shared executions log before
            // the answer, learned by the learner (on whichever instance holds its lease) just after.
            result = await ingest.SubmitAsync(batch, cancellationToken);
        }
        catch (ArgumentException ex)
        {
            // The engine checks its own bounds before changing anything; one it refuses is the client's fault.
            return Results.ValidationProblem(
                new Dictionary<string, string[]>(StringComparer.Ordinal) { ["$"] = [ex.Message] },
                detail: "The engine refused an execution; nothing of this body was learned.");
        }
        catch (ToolGraphStoreException ex)
        {
            // The server's fault, and likely passing (a full disk, a locked file): nothing of the
            // body was learned or published (one transaction), so the client may send it again.
            storeFailures.Report(ex);
            context.Response.Headers.RetryAfter = "1";
            return Results.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The graph store is unavailable",
                detail: "The graph store (on Redis: the shared executions log) could not be written; nothing of this body was learned. Send it again shortly (executions already taken are answered as duplicates).");
        }

        return Results.Json(new IngestResponse(result.Accepted, [.. unknown], result.Duplicates), ServerJsonContext.Default.IngestResponse, statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult? RefuseMediaType(HttpRequest request)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
            || !(media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)))
        {
            return Unsupported($"Send application/json (was {(string.IsNullOrEmpty(request.ContentType) ? "none" : request.ContentType)}).");
        }

        // JSON is UTF-8 (RFC 8259); a body declared otherwise would be read as what it is not.
        if (media.Charset.HasValue
            && !media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !media.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            return Unsupported($"Send UTF-8 JSON: charset=utf-8 or none (was charset={media.Charset}).");
        }

        // The server does not decompress: a gzip body would be parsed as if it were the JSON.
        foreach (var value in request.Headers.ContentEncoding)
        {
            foreach (var coding in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    return Unsupported($"Send the body uncompressed: Content-Encoding identity or none (was {coding}).");
                }
            }
        }

        return null;
    }

    private static IResult Unsupported(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type", detail: detail);

    private static IResult TooLarge(long limit) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Body too large",
        detail: $"The body must be at most {limit:N0} bytes.");

    private static IResult Busy(HttpContext context, ILogger logger, PendingBodyBudget budget)
    {
        LogBusy(logger, budget.Held);
        CloseAfterResponse(context);
        context.Response.Headers.RetryAfter = "1";
        return Results.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Too many bodies being read",
            detail: "The bodies being read hold Server:MaxPendingBodyBytes; retry shortly.");
    }

    // The rest of a refused or broken body is not worth reading: close the connection after the
    // answer instead of draining it. HTTP/2 ends just the stream, which Kestrel does itself.
    private static void CloseAfterResponse(HttpContext context)
    {
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            context.Response.Headers.Connection = "close";
        }
    }

    // Reads at most limit + 1 bytes: a chunked body has no Content-Length to refuse up front, and
    // buffering an unbounded body is what the limit is there to prevent. A declared length is
    // read into one array of exactly that size; a chunked body grows, and each growth is taken
    // from the shared budget first (null, with the reservation refused, when the budget is spent).
    private static async Task<ReadOnlyMemory<byte>?> ReadLimitedAsync(Stream body, long? declared, long limit, Reservation reservation, CancellationToken cancellationToken)
    {
        if (declared is { } length)
        {
            var bytes = new byte[length];
            var filled = 0;
            while (filled < length)
            {
                var read = await body.ReadAsync(bytes.AsMemory(filled), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                filled += read;
            }

            return bytes.AsMemory(0, filled);
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            if (!reservation.TryGrowTo(buffer.Capacity))
            {
                return null;
            }

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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bad request body ({Status})")]
    private static partial void LogBadBody(ILogger logger, int status, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request body aborted by the client")]
    private static partial void LogBodyAborted(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Request body refused with 503: bodies being read hold {Held} bytes (Server:MaxPendingBodyBytes)")]
    private static partial void LogBusy(ILogger logger, long held);

    /// <summary>What one request holds of the <see cref="PendingBodyBudget"/>; given back when the request ends.</summary>
    private sealed class Reservation(PendingBodyBudget budget) : IDisposable
    {
        private long _taken;

        public bool Refused { get; private set; }

        public bool TryGrowTo(long bytes)
        {
            if (bytes <= _taken)
            {
                return true;
            }

            if (!budget.TryTake(bytes - _taken))
            {
                Refused = true;
                return false;
            }

            _taken = bytes;
            return true;
        }

        public void Dispose()
        {
            budget.Return(_taken);
            _taken = 0;
        }
    }
}
