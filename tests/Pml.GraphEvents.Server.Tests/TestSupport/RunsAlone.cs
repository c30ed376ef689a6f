namespace Pml.GraphEvents.Server.Tests.TestSupport;

/// <summary>
/// Tests that read a server's meters run alone: OpenTelemetry's meter provider listens to every
/// meter of its name in the process, not only its own host's, so a server started by a test
/// running in parallel would add its counters to the one scraped (one server per process in
/// production never sees this).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "Runs alone";
}
