using System.Globalization;
using System.Text;

namespace Pml.GraphEvents.Server;

/// <summary>
/// The bounds on what one execution may make the server publish, checked for every execution of a
/// body before any is learned: the size of its <c>workflow_executed</c> frame
/// (<see cref="GraphEventsOptions.MaxEventBytes"/>) and the number of its edge observations
/// (<see cref="ToolGraphEngineOptions.MaxEdgesPerExecution"/>).
/// </summary>
internal static class ExecutionLimits
{
    // The frame's fixed parts around its data JSON: "id: " + id + "\n" + "event: " + type + "\ndata: " + json + "\n\n".
    // The id is not known before the event is published, so the longest one (19 digits) is
    // counted: a frame refused at publish is always refused here first.
    private static readonly int FrameOverhead =
        "id: ".Length + long.MaxValue.ToString(CultureInfo.InvariantCulture).Length + "\n".Length
        + "event: ".Length + GraphEventTypes.WorkflowExecuted.Length + "\ndata: ".Length + "\n\n".Length;

    /// <summary>The encoded size in bytes of the <c>workflow_executed</c> frame the engine would publish for <paramref name="execution"/>, with the longest id.</summary>
    public static int FrameBytes(WorkflowExecution execution)
    {
        var toolIds = new string[execution.Tasks.Count];
        for (var t = 0; t < toolIds.Length; t++)
        {
            toolIds[t] = execution.Tasks[t].Tool;
        }

        // The same event the engine builds, serialized by the library's own writer: exact, escaping included.
        var @event = new WorkflowExecutedEvent(execution.Id, toolIds, execution.Success, execution.ExecutionTimeMs, DateTimeOffset.UnixEpoch);
        return FrameOverhead + Encoding.UTF8.GetByteCount(GraphEventJson.Serialize(@event));
    }

    /// <summary>The edge observations learning <paramref name="execution"/> makes: one per distinct dependency of each task on a task of another tool (a self-loop is skipped).</summary>
    public static int EdgeObservations(WorkflowExecution execution)
    {
        var toolOfTask = new Dictionary<string, string>(execution.Tasks.Count, StringComparer.Ordinal);
        foreach (var task in execution.Tasks)
        {
            toolOfTask[task.Id] = task.Tool;
        }

        var count = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in execution.Tasks)
        {
            seen.Clear();
            foreach (var dependency in task.DependsOn)
            {
                if (seen.Add(dependency) && toolOfTask.TryGetValue(dependency, out var tool) && !string.Equals(tool, task.Tool, StringComparison.Ordinal))
                {
                    count++;
                }
            }
        }

        return count;
    }
}
