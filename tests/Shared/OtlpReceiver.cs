using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Pml.GraphEvents.Testing;

/// <summary>
/// A real OTLP/HTTP receiver on 127.0.0.1 for servers under test (in process or child processes):
/// takes <c>POST /v1/traces</c> bodies (protobuf), decodes their spans and answers 200, as a collector
/// would; <c>/v1/metrics</c> and <c>/v1/logs</c> are accepted and dropped. The decoder reads only the
/// span fields the tests check (OTLP's trace.proto: ids, parent, name, kind, status), skipping the rest
/// by wire type, so it fails loudly on a body that is not protobuf.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();
    private readonly ConcurrentQueue<byte[]> _bodies = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>The endpoint to give as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>).</summary>
    public string Address => _app.Urls.First();

    /// <summary>Every trace export body received, raw.</summary>
    public IReadOnlyCollection<byte[]> Bodies => _bodies;

    /// <summary>Every span received, in arrival order.</summary>
    public IReadOnlyList<OtlpSpan> Spans => [.. _spans];

    /// <summary>The spans of one trace (32 lowercase hex digits).</summary>
    public List<OtlpSpan> Of(string traceId) => [.. _spans.Where(s => s.TraceId == traceId)];

    /// <summary>The settings that point a server's OTLP exporter here, exporting spans every 100 ms.</summary>
    public Dictionary<string, string> ExporterSettings() => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Address,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
    };

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            receiver._bodies.Enqueue(bytes);
            foreach (var span in Decode(bytes))
            {
                receiver._spans.Enqueue(span);
            }

            return Results.Ok();
        });
        app.MapPost("/v1/metrics", () => Results.Ok());
        app.MapPost("/v1/logs", () => Results.Ok());
        await app.StartAsync(TestContext.Current.CancellationToken);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    /// <summary>ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }</summary>
    internal static List<OtlpSpan> Decode(ReadOnlySpan<byte> request)
    {
        List<OtlpSpan> spans = [];
        foreach (var (field, resourceSpans) in Messages(request))
        {
            if (field != 1)
            {
                continue;
            }

            // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
            foreach (var (rsField, scopeSpans) in Messages(resourceSpans))
            {
                if (rsField != 2)
                {
                    continue;
                }

                // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
                var scope = string.Empty;
                foreach (var (ssField, value) in Messages(scopeSpans))
                {
                    if (ssField == 1)
                    {
                        // InstrumentationScope { string name = 1; }
                        scope = Messages(value).Where(f => f.Field == 1).Select(f => Encoding.UTF8.GetString(f.Value)).FirstOrDefault() ?? string.Empty;
                    }
                    else if (ssField == 2)
                    {
                        spans.Add(DecodeSpan(scope, value));
                    }
                }
            }
        }

        return spans;
    }

    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5;
    // SpanKind kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
    // repeated Event events = 11; Status status = 15 { string message = 2; StatusCode code = 3; } }
    private static OtlpSpan DecodeSpan(string scope, byte[] span)
    {
        string traceId = string.Empty, spanId = string.Empty, parentSpanId = string.Empty, name = string.Empty, statusMessage = string.Empty;
        long kind = 0, statusCode = 0;
        ulong start = 0, end = 0;
        List<string> events = [];
        var reader = new Reader(span);
        while (reader.TryNext(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    traceId = Convert.ToHexStringLower(reader.Bytes());
                    break;
                case (2, 2):
                    spanId = Convert.ToHexStringLower(reader.Bytes());
                    break;
                case (4, 2):
                    parentSpanId = Convert.ToHexStringLower(reader.Bytes());
                    break;
                case (5, 2):
                    name = Encoding.UTF8.GetString(reader.Bytes());
                    break;
                case (6, 0):
                    kind = (long)reader.Varint();
                    break;
                case (7, 1):
                    start = reader.Fixed64();
                    break;
                case (8, 1):
                    end = reader.Fixed64();
                    break;
                case (11, 2):
                    // Event { fixed64 time_unix_nano = 1; string name = 2; }
                    events.Add(Messages(reader.Bytes()).Where(f => f.Field == 2).Select(f => Encoding.UTF8.GetString(f.Value)).FirstOrDefault() ?? string.Empty);
                    break;
                case (15, 2):
                    var status = new Reader(reader.Bytes());
                    while (status.TryNext(out var statusField, out var statusWire))
                    {
                        if (statusField == 2 && statusWire == 2)
                        {
                            statusMessage = Encoding.UTF8.GetString(status.Bytes());
                        }
                        else if (statusField == 3 && statusWire == 0)
                        {
                            statusCode = (long)status.Varint();
                        }
                        else
                        {
                            status.Skip(statusWire);
                        }
                    }

                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new OtlpSpan(scope, traceId, spanId, parentSpanId, name, kind, start, end, events, statusCode, statusMessage);
    }

    private static List<(int Field, byte[] Value)> Messages(ReadOnlySpan<byte> message)
    {
        List<(int, byte[])> fields = [];
        var reader = new Reader(message.ToArray());
        while (reader.TryNext(out var field, out var wire))
        {
            if (wire == 2)
            {
                fields.Add((field, reader.Bytes()));
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return fields;
    }

    private sealed class Reader(byte[] bytes)
    {
        private int _at;

        public bool TryNext(out int field, out int wire)
        {
            if (_at >= bytes.Length)
            {
                field = wire = 0;
                return false;
            }

            var key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = bytes[_at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new InvalidDataException("A varint longer than 10 bytes: not protobuf.");
        }

        public ulong Fixed64()
        {
            var value = BitConverter.ToUInt64(bytes, _at);
            _at += 8;
            return value;
        }

        public byte[] Bytes()
        {
            var length = checked((int)Varint());
            var value = bytes.AsSpan(_at, length).ToArray();
            _at += length;
            return value;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0:
                    Varint();
                    break;
                case 1:
                    _at += 8;
                    break;
                case 2:
                    Bytes();
                    break;
                case 5:
                    _at += 4;
                    break;
                default:
                    throw new InvalidDataException($"Wire type {wire}: not protobuf as OTLP writes it.");
            }
        }
    }
}

/// <summary>One span as an OTLP exporter sent it. Kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. Status code: 0 unset, 1 ok, 2 error.</summary>
internal sealed record OtlpSpan(
    string Scope,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    long Kind,
    ulong StartUnixNano,
    ulong EndUnixNano,
    IReadOnlyList<string> Events,
    long StatusCode,
    string StatusMessage);
