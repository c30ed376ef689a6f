using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Pml.GraphEvents;

/// <summary>The engine behind <see cref="IToolGraphEngine"/>.</summary>
[SuppressMessage("Reliability", "CA1001", Justification = "A SemaphoreSlim holds nothing to dispose unless its AvailableWaitHandle is used, which it never is here; an engine lives as long as its host.")]
internal sealed class ToolGraphEngineCore : IToolGraphEngine
{
    internal const double InitialConfidence = 0.5;
    internal const double Reinforcement = 1.1;
    internal const double MaxConfidence = 1.0;

    private readonly IGraphEventPublisher _publisher;
    private readonly IToolGraphStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly bool _autoRegister;
    private readonly int _seed;
    private readonly double _syncThreshold;
    private readonly int _maxEdgesPerExecution;
    private readonly int _maxEventBytes;

    // The most bytes one tool id may take as JSON: metrics_updated lists up to ten of them, so ten
    // such ids and the rest of that event fit in MaxEventBytes, and an edge event (two ids) fits
    // too. Checked before anything is learned, so that no event of a change can be refused after
    // the change is stored.
    private readonly long _maxToolIdJsonBytes;

    // One writer at a time. A change holds it from planning until its last event is queued, which
    // is what keeps two executions' events from interleaving; awaiting it (rather than a lock)
    // lets the holder await the store and the publisher.
    private readonly SemaphoreSlim _writer = new(1, 1);

    // Writer state, touched only while holding _writer. _nodes and _nodeIndex are shared with the
    // snapshots and therefore replaced, never mutated; the edge array and index are private to the
    // writer, and each snapshot gets its own copy of the edges.
    private ImmutableArray<ToolNode> _nodes = [];
    private Dictionary<string, int> _nodeIndex = new(StringComparer.Ordinal);
    private EdgeData[] _edges = [];
    private int _edgeCount;
    private Dictionary<(int From, int To), int> _edgeIndex = [];
    private long _version;

    // Readers load it without a lock; the writer swaps in a complete new snapshot.
    private ToolGraphSnapshot _snapshot = ToolGraphSnapshot.Empty;

    public ToolGraphEngineCore(IGraphEventPublisher publisher, IToolGraphStore store, ToolGraphEngineOptions options, TimeProvider timeProvider, int maxEventBytes = DefaultMaxEventBytes)
    {
        _publisher = publisher;
        _store = store;
        _timeProvider = timeProvider;

        // Copied, so that changing the options object later does not change a running engine.
        _autoRegister = options.AutoRegisterUnknownTools;
        _seed = options.CommunitySeed;
        _syncThreshold = options.SyncConfidenceThreshold;
        _maxEdgesPerExecution = options.MaxEdgesPerExecution;
        _maxEventBytes = maxEventBytes;
        _maxToolIdJsonBytes = MaxToolIdJsonBytes(maxEventBytes);
    }

    /// <summary><see cref="GraphEventsOptions.MaxEventBytes"/>'s default, for an engine whose publisher is not a broadcaster.</summary>
    internal const int DefaultMaxEventBytes = 1024 * 1024;

    /// <summary>The most bytes one tool id may take as JSON (quotes included) under <paramref name="maxEventBytes"/>.</summary>
    internal static long MaxToolIdJsonBytes(int maxEventBytes)
    {
        var tenEmpty = new MetricsUpdatedEvent(0, 0, 0, [.. Enumerable.Repeat(new ToolScore(string.Empty, 0), 10)], 0, default);
        return ((maxEventBytes - EncodedSize.FrameBound(EncodedSize.Data(tenEmpty))) / 10) + EncodedSize.String(string.Empty);
    }

    public ToolGraphSnapshot Snapshot => Volatile.Read(ref _snapshot);

    public async ValueTask<ToolGraphSnapshot> UpdateFromExecutionAsync(WorkflowExecution execution, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(execution);

        // Everything that can refuse an execution is checked here, before the writer lock and
        // long before the store: a refused execution changes nothing and publishes nothing.
        var toolOfTask = MapTasks(execution);
        var executionTimeMs = CheckExecutionTime(execution);
        var dependencies = DistinctDependencies(execution);
        var toolIds = new string[execution.Tasks.Count];
        for (var t = 0; t < toolIds.Length; t++)
        {
            toolIds[t] = execution.Tasks[t].Tool;
            CheckToolId(toolIds[t], nameof(execution), $"Task '{execution.Tasks[t].Id}' of execution '{execution.Id}'");
        }

        var executed = new WorkflowExecutedEvent(execution.Id, toolIds, execution.Success, executionTimeMs, default);
        CheckEventSize(executed, execution.Id, nameof(execution));

        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var plan = new ExecutionPlan(this);
            if (_autoRegister)
            {
                // On first sight, in task order, even a tool that takes part in no edge.
                foreach (var task in execution.Tasks)
                {
                    plan.Resolve(task.Tool);
                }
            }

            for (var t = 0; t < dependencies.Length; t++)
            {
                var task = execution.Tasks[t];
                foreach (var dependency in dependencies[t])
                {
                    plan.Observe(toolOfTask[dependency], task.Tool);
                }
            }

            if (plan.HasChanges)
            {
                // Stored first: if the store fails, nothing below runs and the graph is as it was.
                await _store.SaveChangesAsync(plan.ToChanges(execution.Id), cancellationToken).ConfigureAwait(false);
                Apply(plan);
                Publish(Compute());
            }

            // Past the commit, the change is real: publish it whatever the token says now.
            var snapshot = _snapshot;
            var now = _timeProvider.GetUtcNow();
            foreach (var observation in plan.Observations)
            {
                GraphEvent edgeEvent = observation.Created
                    ? new EdgeCreatedEvent(plan.ToolId(observation.From), plan.ToolId(observation.To), observation.NewConfidence, now)
                    : new EdgeUpdatedEvent(plan.ToolId(observation.From), plan.ToolId(observation.To), observation.OldConfidence, observation.NewConfidence, observation.ObservedCount, now);
                await _publisher.PublishAsync(edgeEvent, CancellationToken.None).ConfigureAwait(false);
            }

            await _publisher.PublishAsync(executed with { Timestamp = now }, CancellationToken.None).ConfigureAwait(false);
            await _publisher.PublishAsync(MetricsEvent(snapshot.Metrics, now), CancellationToken.None).ConfigureAwait(false);
            return snapshot;
        }
        finally
        {
            _writer.Release();
        }
    }

    public async ValueTask<ToolGraphSnapshot> SyncAsync(CancellationToken cancellationToken = default)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = _timeProvider.GetTimestamp();
            var contents = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);

            var nodeIndex = new Dictionary<string, int>(contents.Tools.Count, StringComparer.Ordinal);
            var nodes = ImmutableArray.CreateBuilder<ToolNode>(contents.Tools.Count);
            foreach (var tool in contents.Tools)
            {
                if (nodeIndex.TryGetValue(tool.Id, out var existing))
                {
                    nodes[existing] = tool;
                }
                else
                {
                    nodeIndex.Add(tool.Id, nodes.Count);
                    nodes.Add(tool);
                }
            }

            var edgeIndex = new Dictionary<(int From, int To), int>();
            var edges = new List<EdgeData>();
            foreach (var edge in contents.Edges)
            {
                if (edge.ConfidenceScore > _syncThreshold
                    && nodeIndex.TryGetValue(edge.FromToolId, out var from)
                    && nodeIndex.TryGetValue(edge.ToToolId, out var to)
                    && from != to)
                {
                    var data = new EdgeData(from, to, edge.ConfidenceScore, edge.ObservedCount);
                    if (edgeIndex.TryGetValue((from, to), out var e))
                    {
                        edges[e] = data;
                    }
                    else
                    {
                        edgeIndex.Add((from, to), edges.Count);
                        edges.Add(data);
                    }
                }
            }

            _nodes = nodes.DrainToImmutable();
            _nodeIndex = nodeIndex;
            _edges = [.. edges];
            _edgeCount = _edges.Length;
            _edgeIndex = edgeIndex;
            var snapshot = Publish(Compute());

            var duration = _timeProvider.GetElapsedTime(started).TotalMilliseconds;
            await _publisher.PublishAsync(
                new GraphSyncedEvent(snapshot.Metrics.NodeCount, snapshot.Metrics.EdgeCount, duration, _timeProvider.GetUtcNow()),
                CancellationToken.None).ConfigureAwait(false);
            return snapshot;
        }
        finally
        {
            _writer.Release();
        }
    }

    public async ValueTask<ToolGraphSnapshot> RegisterToolsAsync(IEnumerable<ToolNode> tools, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var given = tools.ToArray();
        foreach (var tool in given)
        {
            ArgumentNullException.ThrowIfNull(tool, nameof(tools));
            CheckToolId(tool.Id, nameof(tools), "A registered tool");
        }

        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (given.Length == 0)
            {
                return _snapshot;
            }

            await _store.SaveChangesAsync(new ToolGraphChanges(null, given, []), cancellationToken).ConfigureAwait(false);

            var nodes = _nodes.ToBuilder();
            var nodeIndex = new Dictionary<string, int>(_nodeIndex, StringComparer.Ordinal);
            foreach (var tool in given)
            {
                if (nodeIndex.TryGetValue(tool.Id, out var existing))
                {
                    nodes[existing] = tool;
                }
                else
                {
                    nodeIndex.Add(tool.Id, nodes.Count);
                    nodes.Add(tool);
                }
            }

            var added = nodes.Count > _nodes.Length;
            _nodes = nodes.DrainToImmutable();
            _nodeIndex = nodeIndex;

            // New names or metadata do not move any metric; a new tool does (node count, density, ranks).
            var snapshot = Publish(added ? Compute() : _snapshot.MetricsResult);
            if (added)
            {
                await _publisher.PublishAsync(MetricsEvent(snapshot.Metrics, _timeProvider.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
            }

            return snapshot;
        }
        finally
        {
            _writer.Release();
        }
    }

    private static Dictionary<string, string> MapTasks(WorkflowExecution execution)
    {
        var toolOfTask = new Dictionary<string, string>(execution.Tasks.Count, StringComparer.Ordinal);
        foreach (var task in execution.Tasks)
        {
            ArgumentNullException.ThrowIfNull(task, nameof(execution));
            if (!toolOfTask.TryAdd(task.Id, task.Tool))
            {
                throw new ArgumentException($"Execution '{execution.Id}' has two tasks with id '{task.Id}'.", nameof(execution));
            }
        }

        foreach (var task in execution.Tasks)
        {
            foreach (var dependency in task.DependsOn)
            {
                if (dependency is null || !toolOfTask.ContainsKey(dependency))
                {
                    throw new ArgumentException($"Task '{task.Id}' of execution '{execution.Id}' depends on '{dependency}', which is not a task of that execution.", nameof(execution));
                }
            }
        }

        return toolOfTask;
    }

    /// <summary>The execution's own duration as the event will carry it: finite and not negative; -0 becomes 0.</summary>
    private static double CheckExecutionTime(WorkflowExecution execution)
    {
        var value = execution.ExecutionTimeMs;
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentException(
                $"Execution '{execution.Id}' has execution_time_ms {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be a finite number of milliseconds, at least 0.",
                nameof(execution));
        }

        // -0 passes "at least 0" but would be written as -0: a duration has no sign, so send 0.
        return value == 0 ? 0 : value;
    }

    /// <summary>
    /// Each task's dependencies with repeats removed (a dependency listed twice is one dependency),
    /// refusing an execution that would observe more than <see cref="ToolGraphEngineOptions.MaxEdgesPerExecution"/>
    /// edges. Every distinct dependency counts, even one that will be skipped (a self-loop, an
    /// unknown tool), so that whether an execution fits depends on the request alone.
    /// </summary>
    private IReadOnlyList<string>[] DistinctDependencies(WorkflowExecution execution)
    {
        var result = new IReadOnlyList<string>[execution.Tasks.Count];
        long observations = 0;
        for (var t = 0; t < result.Length; t++)
        {
            result[t] = Distinct(execution.Tasks[t].DependsOn);
            observations += result[t].Count;
        }

        if (observations > _maxEdgesPerExecution)
        {
            throw new ArgumentException(
                $"Execution '{execution.Id}' has {observations:N0} task dependencies (depends_on, a repeat within a task counted once), each an edge observation; "
                + $"one execution may make at most {_maxEdgesPerExecution:N0} ({ToolGraphEngineOptions.SectionName}:{nameof(ToolGraphEngineOptions.MaxEdgesPerExecution)}).",
                nameof(execution));
        }

        return result;
    }

    /// <summary><paramref name="dependsOn"/> without repeats, in first-seen order; the same list when it has none (the usual case, which allocates nothing).</summary>
    private static IReadOnlyList<string> Distinct(IReadOnlyList<string> dependsOn)
    {
        // A few dependencies are compared pairwise; past that a set keeps it linear, so 260,000
        // repeats of one dependency cost one pass.
        const int PairwiseLimit = 8;
        if (dependsOn.Count < 2)
        {
            return dependsOn;
        }

        HashSet<string>? seen = dependsOn.Count > PairwiseLimit ? new HashSet<string>(StringComparer.Ordinal) : null;
        List<string>? distinct = null;
        for (var i = 0; i < dependsOn.Count; i++)
        {
            var dependency = dependsOn[i];
            bool repeat;
            if (seen is not null)
            {
                repeat = !seen.Add(dependency);
            }
            else
            {
                repeat = false;
                for (var j = 0; j < i && !repeat; j++)
                {
                    repeat = string.Equals(dependsOn[j], dependency, StringComparison.Ordinal);
                }
            }

            if (repeat)
            {
                if (distinct is null)
                {
                    // Everything before the first repeat was distinct.
                    distinct = new List<string>(dependsOn.Count);
                    for (var j = 0; j < i; j++)
                    {
                        distinct.Add(dependsOn[j]);
                    }
                }
            }
            else
            {
                distinct?.Add(dependency);
            }
        }

        return distinct ?? dependsOn;
    }

    /// <summary>Refuses a tool id too long for the events that carry it (see <see cref="_maxToolIdJsonBytes"/>).</summary>
    private void CheckToolId(string toolId, string paramName, string subject)
    {
        // The bound from its length answers for any ordinary id; only a long one is encoded.
        if (EncodedSize.String(toolId) <= _maxToolIdJsonBytes)
        {
            return;
        }

        var size = EncodedSize.ExactString(toolId);
        if (size > _maxToolIdJsonBytes)
        {
            throw new ArgumentException(
                $"{subject} has a tool id of {size:N0} bytes as JSON; a tool id may take at most {_maxToolIdJsonBytes:N0}, because metrics_updated lists up to ten of them "
                + $"and one event may take at most {GraphEventsOptions.SectionName}:{nameof(GraphEventsOptions.MaxEventBytes)} ({_maxEventBytes:N0} bytes).",
                paramName);
        }
    }

    /// <summary>Refuses an execution whose <c>workflow_executed</c> event would be larger than <see cref="GraphEventsOptions.MaxEventBytes"/>.</summary>
    private void CheckEventSize(WorkflowExecutedEvent executed, string workflowId, string paramName)
    {
        if (EncodedSize.FrameBound(EncodedSize.Data(executed)) <= _maxEventBytes)
        {
            return;
        }

        var size = EncodedSize.Frame(executed.EventType, SseFrameEncoder.EncodeData(executed).Length);
        if (size > _maxEventBytes)
        {
            throw new ArgumentException(
                $"Execution '{workflowId}' would publish a {size:N0}-byte workflow_executed event (its workflow_id and tool_ids), over {GraphEventsOptions.SectionName}:{nameof(GraphEventsOptions.MaxEventBytes)} ({_maxEventBytes:N0} bytes).",
                paramName);
        }
    }

    private static MetricsUpdatedEvent MetricsEvent(ToolGraphMetrics metrics, DateTimeOffset now) =>
        new(metrics.EdgeCount, metrics.NodeCount, metrics.Density, metrics.PageRankTop10, metrics.CommunitiesCount, now);

    private void Apply(ExecutionPlan plan)
    {
        if (plan.NewTools.Count > 0)
        {
            var nodeIndex = new Dictionary<string, int>(_nodeIndex, StringComparer.Ordinal);
            foreach (var tool in plan.NewTools)
            {
                nodeIndex.Add(tool.Id, nodeIndex.Count);
            }

            _nodes = _nodes.AddRange(plan.NewTools);
            _nodeIndex = nodeIndex;
        }

        foreach (var edge in plan.ChangedEdges)
        {
            if (_edgeIndex.TryGetValue((edge.From, edge.To), out var e))
            {
                _edges[e] = edge;
            }
            else
            {
                if (_edgeCount == _edges.Length)
                {
                    Array.Resize(ref _edges, Math.Max(16, _edges.Length * 2));
                }

                _edgeIndex.Add((edge.From, edge.To), _edgeCount);
                _edges[_edgeCount++] = edge;
            }
        }
    }

    // PageRank starts from the current snapshot's scores: one change moves them little, so it
    // converges in a few iterations. After a sync the ordinals may mean other tools; that costs
    // iterations, never precision.
    private GraphMetricsResult Compute() => GraphMetricsCalculator.Compute(_nodes, _edges.AsSpan(0, _edgeCount), _seed, _snapshot.PageRankSpan);

    /// <summary>Makes the writer state, with <paramref name="metrics"/>, the current snapshot.</summary>
    private ToolGraphSnapshot Publish(GraphMetricsResult metrics)
    {
        var snapshot = new ToolGraphSnapshot(++_version, _nodes, _nodeIndex, _edges.AsSpan(0, _edgeCount).ToArray(), metrics);
        Volatile.Write(ref _snapshot, snapshot);
        return snapshot;
    }

    /// <summary>One observed dependency, for its event.</summary>
    private readonly record struct Observation(int From, int To, bool Created, double OldConfidence, double NewConfidence, int ObservedCount);

    /// <summary>
    /// What an execution will change, worked out against the writer state without touching it, so
    /// that a store failure leaves nothing to undo.
    /// </summary>
    private sealed class ExecutionPlan(ToolGraphEngineCore engine)
    {
        private readonly Dictionary<string, int> _newToolIndex = new(StringComparer.Ordinal);
        private readonly Dictionary<(int From, int To), int> _changedIndex = [];

        public List<ToolNode> NewTools { get; } = [];

        /// <summary>The final state of each edge the execution touched, in first-touch order.</summary>
        public List<EdgeData> ChangedEdges { get; } = [];

        public List<Observation> Observations { get; } = [];

        public bool HasChanges => NewTools.Count > 0 || ChangedEdges.Count > 0;

        /// <summary>The tool's ordinal, registering it when the options say so; -1 when it is unknown.</summary>
        public int Resolve(string toolId)
        {
            if (engine._nodeIndex.TryGetValue(toolId, out var ordinal) || _newToolIndex.TryGetValue(toolId, out ordinal))
            {
                return ordinal;
            }

            if (!engine._autoRegister)
            {
                return -1;
            }

            ordinal = engine._nodes.Length + NewTools.Count;
            _newToolIndex.Add(toolId, ordinal);
            NewTools.Add(new ToolNode(toolId));
            return ordinal;
        }

        public void Observe(string fromToolId, string toToolId)
        {
            if (string.Equals(fromToolId, toToolId, StringComparison.Ordinal))
            {
                return;
            }

            var from = Resolve(fromToolId);
            var to = Resolve(toToolId);
            if (from < 0 || to < 0)
            {
                return;
            }

            EdgeData edge;
            if (_changedIndex.TryGetValue((from, to), out var changed))
            {
                edge = Reinforce(ChangedEdges[changed]);
                ChangedEdges[changed] = edge;
            }
            else
            {
                if (engine._edgeIndex.TryGetValue((from, to), out var e))
                {
                    edge = Reinforce(engine._edges[e]);
                }
                else
                {
                    edge = new EdgeData(from, to, InitialConfidence, 1);
                    Observations.Add(new Observation(from, to, true, 0, InitialConfidence, 1));
                }

                _changedIndex.Add((from, to), ChangedEdges.Count);
                ChangedEdges.Add(edge);
            }
        }

        public string ToolId(int ordinal) =>
            ordinal < engine._nodes.Length ? engine._nodes[ordinal].Id : NewTools[ordinal - engine._nodes.Length].Id;

        public ToolGraphChanges ToChanges(string workflowId)
        {
            var edges = new ToolGraphEdge[ChangedEdges.Count];
            for (var e = 0; e < edges.Length; e++)
            {
                var edge = ChangedEdges[e];
                edges[e] = new ToolGraphEdge(ToolId(edge.From), ToolId(edge.To), edge.Confidence, edge.ObservedCount);
            }

            return new ToolGraphChanges(workflowId, [.. NewTools], edges);
        }

        private EdgeData Reinforce(EdgeData old)
        {
            var edge = old with { Confidence = Math.Min(old.Confidence * Reinforcement, MaxConfidence), ObservedCount = old.ObservedCount + 1 };
            Observations.Add(new Observation(old.From, old.To, false, old.Confidence, edge.Confidence, edge.ObservedCount));
            return edge;
        }
    }
}
