using System.Net;

namespace Pml.GraphEvents.Cluster.Tests.TestSupport;

/// <summary>
/// The answer to one <c>POST /executions</c>, or the transport failure that replaced it (a killed
/// instance refuses or resets the connection): the test decides what is acceptable.
/// </summary>
internal sealed record PostAnswer(HttpStatusCode? Status, string Body, string? RetryAfter, Exception? Failure)
{
    public bool IsAccepted => Status == HttpStatusCode.Accepted;

    public IReadOnlyList<string> Accepted => Ids("accepted");

    public IReadOnlyList<string> Duplicates => Ids("duplicates");

    public IReadOnlyList<string> UnknownTools => Ids("unknown_tools");

    public override string ToString() =>
        Failure is not null ? $"no answer ({Failure.GetType().Name}: {Failure.Message})" : $"{(int?)Status} Retry-After={RetryAfter ?? "(none)"} {Body}";

    private string[] Ids(string property)
    {
        Assert.True(IsAccepted, $"Expected a 202, got {this}");
        using var document = JsonDocument.Parse(Body);
        return [.. document.RootElement.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];
    }
}
