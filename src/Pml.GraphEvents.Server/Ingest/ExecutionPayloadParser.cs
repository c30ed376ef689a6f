using System.Globalization;

namespace Pml.GraphEvents.Server;

/// <summary>
/// Reads the body of <c>POST /executions</c>: one execution or a JSON array of them, each either
/// <c>{"execution_id", "dag_structure": {"tasks": [{"id", "tool", "depends_on"}]}, "success", "execution_time_ms"}</c>
/// or, for a chain, <c>{"execution_id", "tool_ids": [...], ...}</c>. Parsed by hand over a
/// <see cref="JsonDocument"/> rather than deserialized, so that every problem is reported with the
/// path of the field at fault (<c>[1].dag_structure.tasks[0].tool</c>), all of them at once.
/// Unknown fields are ignored, so a producer may send more than the server reads.
/// </summary>
internal static class ExecutionPayloadParser
{
    internal const int MaxIdLength = 256;
    internal const int MaxTasks = 1_000;

    // Duplicate keys are refused while parsing (the library's own check, .NET 10): "last wins"
    // would let two readers of one body (a proxy that logs, the server that learns) disagree.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16, AllowDuplicateProperties = false };

    /// <summary>The executions, or the problems keyed by field path (then the executions are <see langword="null"/>).</summary>
    public static (List<ParsedExecution>? Executions, Dictionary<string, string[]> Errors) Parse(ReadOnlyMemory<byte> utf8)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);

        // JsonDocument checks the structure but not the UTF-8 inside strings: GetString would
        // throw on it later, and the client would get a 500 for a bad body.
        if (!System.Text.Unicode.Utf8.IsValid(utf8.Span))
        {
            errors["$"] = ["The body is not valid UTF-8."];
            return (null, errors);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException ex)
        {
            errors["$"] = [$"The body is not valid JSON: {ex.Message}"];
            return (null, errors);
        }

        using (document)
        {
            var root = document.RootElement;
            var executions = new List<ParsedExecution>();
            if (root.ValueKind == JsonValueKind.Array)
            {
                if (root.GetArrayLength() == 0)
                {
                    errors["$"] = ["The array holds no execution."];
                }

                var index = 0;
                foreach (var item in root.EnumerateArray())
                {
                    var execution = ParseExecution(item, string.Create(CultureInfo.InvariantCulture, $"[{index++}]."), errors);
                    if (execution is not null)
                    {
                        executions.Add(execution);
                    }
                }
            }
            else
            {
                var execution = ParseExecution(root, string.Empty, errors);
                if (execution is not null)
                {
                    executions.Add(execution);
                }
            }

            return errors.Count == 0 ? (executions, errors) : (null, errors);
        }
    }

    private static ParsedExecution? ParseExecution(JsonElement element, string prefix, Dictionary<string, string[]> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            Add(errors, prefix.Length == 0 ? "$" : prefix.TrimEnd('.'), "An execution must be a JSON object.");
            return null;
        }

        var before = errors.Count;
        var id = ReadId(element, "execution_id", prefix, errors);

        var success = true;
        if (element.TryGetProperty("success", out var successElement))
        {
            if (successElement.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                success = successElement.GetBoolean();
            }
            else
            {
                Add(errors, prefix + "success", "Must be true or false.");
            }
        }

        double elapsed = 0;
        if (element.TryGetProperty("execution_time_ms", out var elapsedElement))
        {
            if (elapsedElement.ValueKind != JsonValueKind.Number || !elapsedElement.TryGetDouble(out elapsed) || elapsed < 0 || !double.IsFinite(elapsed))
            {
                Add(errors, prefix + "execution_time_ms", "Must be a number of milliseconds, zero or more.");
            }

            // -0 is zero: echoed as "-0" it would read as a negative time to a client that checks the sign.
            if (elapsed == 0)
            {
                elapsed = 0;
            }
        }

        var hasDag = element.TryGetProperty("dag_structure", out var dag);
        var hasChain = element.TryGetProperty("tool_ids", out var chain);
        IReadOnlyList<WorkflowTask>? tasks = null;
        var tasksPath = prefix + (hasChain && !hasDag ? "tool_ids" : "dag_structure.tasks");
        if (hasDag && hasChain)
        {
            Add(errors, prefix + "tool_ids", "Give either dag_structure or tool_ids, not both.");
        }
        else if (hasDag)
        {
            tasks = ParseDag(dag, prefix + "dag_structure", errors);
        }
        else if (hasChain)
        {
            tasks = ParseChain(chain, prefix + "tool_ids", errors);
        }
        else
        {
            Add(errors, prefix + "dag_structure", "Required (or tool_ids for a chain).");
        }

        return errors.Count == before && id is not null && tasks is not null
            ? new ParsedExecution(new WorkflowExecution(id, tasks, success, elapsed), tasksPath)
            : null;
    }

    private static List<WorkflowTask>? ParseChain(JsonElement chain, string path, Dictionary<string, string[]> errors)
    {
        if (chain.ValueKind != JsonValueKind.Array || chain.GetArrayLength() == 0 || chain.GetArrayLength() > MaxTasks)
        {
            Add(errors, path, $"Must be an array of 1 to {MaxTasks:N0} tool ids.");
            return null;
        }

        var tools = new List<string>();
        var index = 0;
        foreach (var tool in chain.EnumerateArray())
        {
            if (ReadIdValue(tool, Indexed(path, index++), errors) is { } toolId)
            {
                tools.Add(toolId);
            }
        }

        return tools.Count == chain.GetArrayLength() ? [.. WorkflowExecution.Chain("chain", tools).Tasks] : null;
    }

    private static List<WorkflowTask>? ParseDag(JsonElement dag, string path, Dictionary<string, string[]> errors)
    {
        if (dag.ValueKind != JsonValueKind.Object)
        {
            Add(errors, path, "Must be an object with a tasks array.");
            return null;
        }

        var tasksPath = path + ".tasks";
        if (!dag.TryGetProperty("tasks", out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0 || array.GetArrayLength() > MaxTasks)
        {
            Add(errors, tasksPath, $"Must be an array of 1 to {MaxTasks:N0} tasks.");
            return null;
        }

        var before = errors.Count;
        var tasks = new List<WorkflowTask>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var task in array.EnumerateArray())
        {
            var taskPath = Indexed(tasksPath, index++);
            if (task.ValueKind != JsonValueKind.Object)
            {
                Add(errors, taskPath, "A task must be an object with id and tool.");
                continue;
            }

            var id = ReadId(task, "id", taskPath + ".", errors);
            if (id is not null && !ids.Add(id))
            {
                Add(errors, taskPath + ".id", $"Task id '{id}' is used twice.");
            }

            var tool = ReadId(task, "tool", taskPath + ".", errors);
            var dependsOn = new List<string>();
            if (task.TryGetProperty("depends_on", out var dependencies))
            {
                if (dependencies.ValueKind != JsonValueKind.Array || dependencies.GetArrayLength() > MaxTasks)
                {
                    // A task depends on at most every task of its execution: a longer list only repeats.
                    Add(errors, taskPath + ".depends_on", $"Must be an array of at most {MaxTasks:N0} task ids.");
                }
                else
                {
                    var d = 0;
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var dependency in dependencies.EnumerateArray())
                    {
                        // A dependency listed twice is one dependency (one edge observation, not two).
                        if (ReadIdValue(dependency, Indexed(taskPath + ".depends_on", d++), errors) is { } dependencyId && seen.Add(dependencyId))
                        {
                            dependsOn.Add(dependencyId);
                        }
                    }
                }
            }

            if (id is not null && tool is not null)
            {
                tasks.Add(new WorkflowTask(id, tool, dependsOn));
            }
        }

        // Checked after every id is known: a task may depend on one listed after it.
        for (var t = 0; t < tasks.Count; t++)
        {
            for (var d = 0; d < tasks[t].DependsOn.Count; d++)
            {
                if (!ids.Contains(tasks[t].DependsOn[d]))
                {
                    Add(errors, Indexed(Indexed(tasksPath, t) + ".depends_on", d), $"'{tasks[t].DependsOn[d]}' is not the id of a task of this execution.");
                }
            }
        }

        return errors.Count == before ? tasks : null;
    }

    private static string? ReadId(JsonElement owner, string name, string prefix, Dictionary<string, string[]> errors)
    {
        if (!owner.TryGetProperty(name, out var value))
        {
            Add(errors, prefix + name, "Required.");
            return null;
        }

        return ReadIdValue(value, prefix + name, errors);
    }

    private static string? ReadIdValue(JsonElement value, string path, Dictionary<string, string[]> errors)
    {
        string? text = null;
        if (value.ValueKind == JsonValueKind.String)
        {
            try
            {
                text = value.GetString();
            }
            catch (InvalidOperationException)
            {
                // An escaped lone surrogate ("\ud800") is valid JSON but not text; GetString refuses it.
                Add(errors, path, "Must be valid Unicode text (a lone surrogate is not).");
                return null;
            }
        }

        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxIdLength)
        {
            Add(errors, path, $"Must be a non-empty string of at most {MaxIdLength} characters.");
            return null;
        }

        return text;
    }

    private static string Indexed(string path, int index) => string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]");

    private static void Add(Dictionary<string, string[]> errors, string path, string message) =>
        errors[path] = errors.TryGetValue(path, out var existing) ? [.. existing, message] : [message];
}

/// <summary>An execution read from the body, with the path of its tasks field (<c>[1].tool_ids</c>, <c>dag_structure.tasks</c>) for errors about it as a whole.</summary>
internal sealed record ParsedExecution(WorkflowExecution Execution, string TasksPath);
