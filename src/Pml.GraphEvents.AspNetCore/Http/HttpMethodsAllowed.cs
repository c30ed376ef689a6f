namespace Pml.GraphEvents.AspNetCore;

/// <summary>The methods of the stream resource.</summary>
internal static class HttpMethodsAllowed
{
    public const string Get = "GET";

    /// <summary>The <c>Allow</c> header of a 405: GET reads the stream, OPTIONS answers CORS preflights.</summary>
    public const string AllowHeader = "GET, OPTIONS";

    /// <summary>Every other standard method gets an explicit 405, so an app's catch-all fallback cannot answer them.</summary>
    public static readonly string[] Rejected = ["OPTIONS", "HEAD", "POST", "PUT", "PATCH", "DELETE", "TRACE"];
}
