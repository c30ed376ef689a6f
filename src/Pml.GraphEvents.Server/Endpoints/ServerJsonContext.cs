using System.Text.Json.Serialization;

namespace Pml.GraphEvents.Server;

/// <summary>Source-generated JSON of the server's own answers, snake_case like the event stream.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GraphResponse))]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(NextToolsResponse))]
[JsonSerializable(typeof(PathsResponse))]
internal sealed partial class ServerJsonContext : JsonSerializerContext;
