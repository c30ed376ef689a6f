using System.Globalization;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Server;

/// <summary>
/// Replays realistic workflow executions so that a newcomer watches the graph learn within
/// seconds: each tick picks one of the catalog's workflows, sometimes skips a step or runs a
/// prefix, sometimes runs two steps in parallel (a small DAG rather than a chain), and feeds it
/// to the ingest like any posted execution (so with Redis, every instance's simulator feeds the one
/// learner). Off with <c>--simulate false</c>.
/// </summary>
internal sealed partial class WorkflowSimulator(
    IExecutionIngest ingest,
    SampleCatalog catalog,
    IOptions<ServerOptions> options,
    TimeProvider time,
    ILogger<WorkflowSimulator> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var random = settings.SimulationSeed is { } seed ? new Random(seed) : new Random();
        using var timer = new PeriodicTimer(settings.SimulationInterval, time);
        var count = 0;
        do
        {
            var execution = Next(random, ++count);
            try
            {
                await ingest.SubmitAsync([execution], stoppingToken);
            }
            catch (ToolGraphStoreException ex)
            {
                // A store failure is the operator's to see; the demo keeps going in case it was transient.
                LogStoreFailed(ex, execution.Id);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    // Distinguishes this process's ids from another instance's simulating on the same shared graph
    // (whose counts run alike), where a repeated id would be answered as a duplicate.
    private readonly string _tag = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()));

    internal WorkflowExecution Next(Random random, int count)
    {
        var template = catalog.Workflows[random.Next(catalog.Workflows.Length)];
        var tools = new List<string>(template);
        if (tools.Count > 3 && random.NextDouble() < 0.25)
        {
            tools.RemoveAt(1 + random.Next(tools.Count - 2)); // a step skipped
        }
        else if (tools.Count > 3 && random.NextDouble() < 0.2)
        {
            tools.RemoveRange(tools.Count - 1, 1); // stopped early
        }

        var id = string.Create(CultureInfo.InvariantCulture, $"sim-{_tag}-{count}-{random.Next(0x10000):x4}");
        var success = random.NextDouble() > 0.1;
        var elapsed = Math.Round(40 + (random.NextDouble() * 900 * tools.Count), 1);
        if (tools.Count < 4 || random.NextDouble() < 0.6)
        {
            return WorkflowExecution.Chain(id, tools, success, elapsed);
        }

        // A fan-out and join: steps 1 and 2 both depend on step 0, and step 3 waits for both.
        var tasks = new List<WorkflowTask>(tools.Count);
        for (var i = 0; i < tools.Count; i++)
        {
            string[] dependsOn = i switch
            {
                0 => [],
                1 or 2 => ["t0"],
                3 => ["t1", "t2"],
                _ => [$"t{i - 1}"],
            };
            tasks.Add(new WorkflowTask($"t{i}", tools[i], dependsOn));
        }

        return new WorkflowExecution(id, tasks, success, elapsed);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulated execution {ExecutionId} was not stored")]
    private partial void LogStoreFailed(Exception exception, string executionId);
}
