namespace Pml.GraphEvents.Server;

/// <summary>
/// The bounds on what one execution may make the server publish, checked for every execution of a
/// body before any is learned: the size of its <c>workflow_executed</c> frame
/// (<see cref="GraphEventsOptions.MaxEventBytes"/>) and the number of its edge observations
/// (<see cref="ToolGraphEngineOptions.MaxEdgesPerExecution"/>).
/// </summary>
internal static class ExecutionLimits
{
    /// <summary>
    /// The encoded size in bytes of the <c>workflow_executed</c> frame the engine would publish for
    /// <paramref name="execution"/> (with the longest id), or 0 when it certainly fits in
    /// <paramref name="maxEventBytes"/>: the library's bound from string lengths answers for nearly
    /// every execution, and only one that may be too large is serialized, as the engine does.
    /// </summary>
    public static long FrameBytesIfOver(WorkflowExecution execution, int maxEventBytes)
    {
        var toolIds = new string[execution.Tasks.Count];
        for (var t = 0; t < toolIds.Length; t++)
        {
            toolIds[t] = execution.Tasks[t].Tool;
        }

        // The same event the engine builds, measured by the library's own arithmetic: exact, escaping included.
        var @event = new WorkflowExecutedEvent(execution.Id, toolIds, execution.Success, execution.ExecutionTimeMs, DateTimeOffset.UnixEpoch);
        if (EncodedSize.FrameBound(EncodedSize.Data(@event)) <= maxEventBytes)
        {
            return 0;
        }

        var size = EncodedSize.Frame(@event.EventType, SseFrameEncoder.EncodeData(@event).Length);
        return size > maxEventBytes ? size : 0;
    }

    /// <summary>
    /// The edge observations the engine counts against <see cref="ToolGraphEngineOptions.MaxEdgesPerExecution"/>:
    /// one per distinct dependency of each task, a self-loop included (the engine skips it when it
    /// learns, but counts it, so that whether an execution fits depends on the request alone).
    /// </summary>
    public static int EdgeObservations(WorkflowExecution execution)
    {
        var count = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in execution.Tasks)
        {
            seen.Clear();
            foreach (var dependency in task.DependsOn)
            {
                if (seen.Add(dependency))
                {
                    count++;
                }
            }
        }

        return count;
    }
}
