namespace Pml.GraphEvents;

/// <summary>One task of a <see cref="WorkflowExecution"/>: a tool call and the tasks it waited for.</summary>
/// <param name="Id">The task's id, unique within its execution.</param>
/// <param name="Tool">The id of the tool the task ran.</param>
/// <param name="DependsOn">Ids of the tasks of the same execution that ran before this one and fed it.</param>
public sealed record WorkflowTask(string Id, string Tool, IReadOnlyList<string> DependsOn)
{
    /// <summary>The task's id, unique within its execution.</summary>
    public string Id { get; init; } = Id ?? throw new ArgumentNullException(nameof(Id));

    /// <summary>The id of the tool the task ran.</summary>
    public string Tool { get; init; } = Tool ?? throw new ArgumentNullException(nameof(Tool));

    /// <summary>Ids of the tasks of the same execution that ran before this one and fed it.</summary>
    public IReadOnlyList<string> DependsOn { get; init; } = DependsOn ?? throw new ArgumentNullException(nameof(DependsOn));
}
