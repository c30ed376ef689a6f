namespace Pml.GraphEvents;

/// <summary>A finished workflow execution, for the engine to learn from.</summary>
/// <param name="Id">The execution's id (sent as <c>workflow_id</c>).</param>
/// <param name="Tasks">Its tasks, in the order they were given.</param>
/// <param name="Success">Whether the execution succeeded.</param>
/// <param name="ExecutionTimeMs">
/// How long the workflow itself ran, in milliseconds, as measured and reported by whoever ran it.
/// The engine passes it through to <c>workflow_executed</c> unchanged; it is not the time the
/// engine spent learning from the execution.
/// </param>
public sealed record WorkflowExecution(string Id, IReadOnlyList<WorkflowTask> Tasks, bool Success, double ExecutionTimeMs)
{
    /// <summary>The execution's id (sent as <c>workflow_id</c>).</summary>
    public string Id { get; init; } = Id ?? throw new ArgumentNullException(nameof(Id));

    /// <summary>Its tasks, in the order they were given.</summary>
    public IReadOnlyList<WorkflowTask> Tasks { get; init; } = Tasks ?? throw new ArgumentNullException(nameof(Tasks));

    /// <summary>
    /// An execution that ran <paramref name="toolIds"/> one after the other: each tool depends on
    /// the one before it. Task ids are the positions <c>"0"</c>, <c>"1"</c>, ...
    /// </summary>
    /// <param name="id">The execution's id.</param>
    /// <param name="toolIds">The tools, in the order they ran.</param>
    /// <param name="success">Whether the execution succeeded.</param>
    /// <param name="executionTimeMs">How long the workflow itself ran, in milliseconds.</param>
    public static WorkflowExecution Chain(string id, IEnumerable<string> toolIds, bool success = true, double executionTimeMs = 0)
    {
        ArgumentNullException.ThrowIfNull(toolIds);
        var tasks = new List<WorkflowTask>();
        foreach (var tool in toolIds)
        {
            var index = tasks.Count;
            string[] dependsOn = index == 0 ? [] : [(index - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)];
            tasks.Add(new WorkflowTask(index.ToString(System.Globalization.CultureInfo.InvariantCulture), tool, dependsOn));
        }

        return new WorkflowExecution(id, tasks, success, executionTimeMs);
    }
}
