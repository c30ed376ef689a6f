using FsCheck;
using FsCheck.Fluent;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>
/// Properties of the graph engine over arbitrary sequences of executions (FsCheck): confidences
/// stay in (0, 1], counts equal the observations, density stays in [0, 1], PageRank sums to 1.
/// </summary>
public sealed class EnginePropertyTests
{
    // A small universe so that edges repeat (updates, saturation at 1.0) and self-loops occur;
    // "ghost" tools are never registered, so their edges must be skipped.
    private static readonly string[] Known = ["a", "b", "c", "d", "e", "f"];
    private static readonly string[] Tools = [.. Known, "ghost:1", "ghost:2"];

    [Fact]
    public void For_any_sequence_of_executions_the_graph_invariants_hold()
    {
        // A fixed seed: the same 200 sequences on every run, so a failure reproduces.
        var config = Config.QuickThrowOnFailure.WithMaxTest(200).WithReplay(1234, 5679);
        Check.One(config, Prop.ForAll(Executions().ToArbitrary(), Holds));
    }

    private static Gen<List<WorkflowExecution>> Executions()
    {
        var task = Gen.Choose(0, Tools.Length - 1).Select(i => Tools[i]);
        var execution =
            from size in Gen.Choose(1, 6)
            from tools in Gen.ArrayOf(task, size)
            from dependencies in Gen.ArrayOf(Gen.ArrayOf(Gen.Choose(0, size - 1), 2), size)
            from chain in Gen.Elements(true, false)
            select chain
                ? WorkflowExecution.Chain("chain", tools)
                : new WorkflowExecution(
                    "dag",
                    [.. tools.Select((tool, t) => new WorkflowTask($"t{t}", tool, [.. dependencies[t].Take(t % 3).Select(d => $"t{d}")]))],
                    true,
                    1);
        return Gen.ListOf(execution).Select(list => list.ToList());
    }

    private static bool Holds(List<WorkflowExecution> executions)
    {
        // Each a distinct execution: a repeated id is a retry, which the engine learns once (that
        // rule has its own tests); this property is about learning.
        executions = [.. executions.Select((e, i) => e with { Id = $"{e.Id}-{i}" })];
        var publisher = new CountingPublisher();
        var engine = ToolGraphEngine.Create(publisher);
        engine.RegisterToolsAsync(Known.Select(id => new ToolNode(id))).AsTask().GetAwaiter().GetResult();

        // The model: every (dependency tool, task tool) pair of known, distinct tools is one observation.
        var observations = new Dictionary<(string, string), int>();
        foreach (var execution in executions)
        {
            var byId = execution.Tasks.ToDictionary(t => t.Id, t => t.Tool);
            foreach (var task in execution.Tasks)
            {
                // A dependency listed twice in one task is one dependency.
                foreach (var dependency in task.DependsOn.Distinct(StringComparer.Ordinal))
                {
                    var from = byId[dependency];
                    if (from != task.Tool && Known.Contains(from) && Known.Contains(task.Tool))
                    {
                        observations[(from, task.Tool)] = observations.GetValueOrDefault((from, task.Tool)) + 1;
                    }
                }
            }

            engine.UpdateFromExecutionAsync(execution).AsTask().GetAwaiter().GetResult();
            var graph = engine.Snapshot;
            Assert.All(graph.Edges, e => Assert.InRange(e.ConfidenceScore, double.Epsilon, 1.0));
            Assert.InRange(graph.Metrics.Density, 0.0, 1.0);
            Assert.Equal(1.0, graph.PageRank.Sum(), 9);
        }

        var final = engine.Snapshot;
        Assert.Equal(observations.Count, final.Edges.Count);
        foreach (var edge in final.Edges)
        {
            var count = observations[(edge.FromToolId, edge.ToToolId)];
            Assert.Equal(count, edge.ObservedCount);
            Assert.Equal(Math.Min(0.5 * Math.Pow(1.1, count - 1), 1.0), edge.ConfidenceScore, 9);
        }

        Assert.Equal(observations.Count, publisher.Created);
        Assert.Equal(observations.Values.Sum() - observations.Count, publisher.Updated);
        return true;
    }

    /// <summary>Counts the events the engine publishes; no broadcaster needed.</summary>
    private sealed class CountingPublisher : IGraphEventPublisher
    {
        public int Created { get; private set; }

        public int Updated { get; private set; }

        public bool TryPublish(GraphEvent graphEvent)
        {
            if (graphEvent is EdgeCreatedEvent)
            {
                Created++;
            }
            else if (graphEvent is EdgeUpdatedEvent)
            {
                Updated++;
            }

            return true;
        }

        public ValueTask PublishAsync(GraphEvent graphEvent, CancellationToken cancellationToken = default)
        {
            TryPublish(graphEvent);
            return ValueTask.CompletedTask;
        }
    }
}
