namespace Pml.GraphEvents.Server;

/// <summary>
/// The console log's formats (<see cref="ServerOptions.LogFormat"/>): the default text, or JSON lines
/// through the console logger's own JSON formatter, which a log collector parses without patterns.
/// </summary>
internal static class LogFormats
{
    public const string Text = "text";
    public const string Json = "json";

    public static bool IsKnown(string? format) =>
        string.Equals(format, Text, StringComparison.OrdinalIgnoreCase) || string.Equals(format, Json, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Switches the console log to JSON when the configuration asks for it. Read here, before the
    /// options are validated, because logging is set up while the host is built; an unknown value
    /// leaves the text format and fails the start-up with the options' other failures.
    /// </summary>
    public static void Configure(WebApplicationBuilder builder)
    {
        var format = builder.Configuration[$"{ServerOptions.SectionName}:{nameof(ServerOptions.LogFormat)}"];
        if (!string.Equals(format, Json, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        // AddJsonConsole adds the console provider if it is missing and selects the JSON formatter:
        // the other providers (EventSource, for dotnet-trace and dotnet-counters) stay.
        builder.Logging.AddJsonConsole(options =>
        {
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            options.IncludeScopes = false;
            options.JsonWriterOptions = new JsonWriterOptions { Indented = false };
        });
    }
}
