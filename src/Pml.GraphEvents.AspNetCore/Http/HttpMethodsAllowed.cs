namespace Pml.GraphEvents.AspNetCore;

/// <summary>The methods of the stream resource.</summary>
internal static class HttpMethodsAllowed
{
    public const string Get = "GET";

    /// <summary>
    /// The <c>Allow</c> header, the same on a 405 and on an OPTIONS answer: GET reads the stream,
    /// OPTIONS answers with this (and CORS preflights). Not HEAD: a HEAD must answer what a GET
    /// would, and a GET's status depends on the subscriber and per-address limits at that instant,
    /// which only subscribing decides; a HEAD that said 200 and then a GET that got 503 would help
    /// no monitor. Probes have <c>/healthz</c> on the server, or open the stream.
    /// </summary>
    public const string AllowHeader = "GET, OPTIONS";
}
