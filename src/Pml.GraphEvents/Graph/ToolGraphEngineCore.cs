using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Pml.GraphEvents;

/// <summary>The engine behind <see cref="IToolGraphEngine"/>.</summary>
[SuppressMessage("Reliability", "CA1001", Justification = "A SemaphoreSlim holds nothing to dispose unless its AvailableWaitHandle is used, which it never is here; an engine lives as long as its host.")]
internal sealed partial class ToolGraphEngineCore : IToolGraphEngine
{
    internal const double InitialConfidence = 0.5;
    internal const double Reinforcement = 1.1;
    internal const double MaxConfidence = 1.0;

    private readonly IGraphEventPublisher _publisher;
    private readonly IToolGraphStore _store;

    // The publisher when it is this library's broadcaster: changes then commit their events as one
    // block and learn the id of the last one (the snapshot's AsOfEventId); and when the broadcaster's
    // durable log is this engine's store, a change and its events are written in one transaction.
    private readonly Broadcaster? _broadcaster;
    private readonly bool _transactional;
    private readonly LearnedExecutionWindow _learned;
    private readonly int _duplicateWindowCount;
    private readonly TimeSpan _duplicateWindowAge;
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

    // Writer state, touched only while holding _writer. _nodes, _nodeIndex and _edges are shared
    // with the snapshots and therefore replaced, never mutated (a change builds new ones beside
    // them, see Prepare); the edge index is private to the writer.
    private ImmutableArray<ToolNode> _nodes = [];
    private Dictionary<string, int> _nodeIndex = new(StringComparer.Ordinal);
    private EdgeData[] _edges = [];
    private Dictionary<(int From, int To), int> _edgeIndex = [];
    private long _version;

    // Readers load it without a lock; the writer swaps in a complete new snapshot.
    private ToolGraphSnapshot _snapshot = ToolGraphSnapshot.Empty;

    public ToolGraphEngineCore(IGraphEventPublisher publisher, IToolGraphStore store, ToolGraphEngineOptions options, TimeProvider timeProvider, int maxEventBytes = DefaultMaxEventBytes)
    {
        _publisher = publisher;
        _store = store;
        _timeProvider = timeProvider;
        _broadcaster = publisher as Broadcaster;
        _transactional = _broadcaster is not null && _broadcaster.Persists(store);
        _duplicateWindowCount = options.DuplicateWindowCount;
        _duplicateWindowAge = options.DuplicateWindowAge;
        _learned = new LearnedExecutionWindow(_duplicateWindowCount, _duplicateWindowAge);

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
        ThrowIfShared();
        return (await UpdateAsync([execution], nameof(execution), null, cancellationToken).ConfigureAwait(false)).Snapshot;
    }

    public ValueTask<ExecutionBatchResult> UpdateFromExecutionsAsync(IReadOnlyList<WorkflowExecution> executions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(executions);
        ThrowIfShared();
        return UpdateAsync(executions, nameof(executions), null, cancellationToken);
    }

    // sharedCommit: the learner's way to the shared log (see LearnAsync); null for this engine's own publisher.
    private ValueTask<ExecutionBatchResult> UpdateAsync(IReadOnlyList<WorkflowExecution> executions, string paramName, SharedLogCommit? sharedCommit, CancellationToken cancellationToken) =>
        GraphEventsTracing.Source.HasListeners()
            ? UpdateTracedAsync(executions, paramName, sharedCommit, cancellationToken)
            : LearnLockedAsync(executions, paramName, sharedCommit, null, cancellationToken); // no second state machine untraced

    private async ValueTask<ExecutionBatchResult> UpdateTracedAsync(IReadOnlyList<WorkflowExecution> executions, string paramName, SharedLogCommit? sharedCommit, CancellationToken cancellationToken)
    {
        // A child of whatever is current (the POST's request, the Redis learner's receive): the
        // broadcaster's commit takes this span as the parent of its publish span, on the pump's thread.
        using var activity = GraphEventsTracing.Source.StartActivity(GraphEventsTracing.Learn);
        activity?.SetTag(GraphEventsTracing.ExecutionsTag, executions.Count);
        try
        {
            var result = await LearnLockedAsync(executions, paramName, sharedCommit, activity, cancellationToken).ConfigureAwait(false);
            if (activity is not null)
            {
                activity.SetTag(GraphEventsTracing.LearnedTag, result.Learned.Count);
                activity.SetTag(GraphEventsTracing.DuplicatesTag, result.Duplicates.Count);
                activity.SetTag(GraphEventsTracing.LastEventIdTag, result.Snapshot.AsOfEventId);
            }

            return result;
        }
        catch (Exception exception)
        {
            GraphEventsTracing.Fail(activity, exception);
            throw;
        }
    }

    private async ValueTask<ExecutionBatchResult> LearnLockedAsync(IReadOnlyList<WorkflowExecution> executions, string paramName, SharedLogCommit? sharedCommit, Activity? activity, CancellationToken cancellationToken)
    {
        // Everything that can refuse an execution is checked here, before the writer lock and
        // long before the store: a refused batch changes nothing and publishes nothing.
        var checkedExecutions = Check(executions, paramName);
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        activity?.AddEvent(new ActivityEvent(GraphEventsTracing.LockedEvent));
        try
        {
            var now = _timeProvider.GetUtcNow();
            _learned.Trim(now);
            var plan = new ExecutionPlan(this);
            List<string> learned = new(checkedExecutions.Length);
            List<string> duplicates = [];
            HashSet<string> inBatch = new(StringComparer.Ordinal);
            List<GraphEvent> events = [];
            foreach (var (execution, toolOfTask, dependencies, executed) in checkedExecutions)
            {
                // Within the window (kept by the store, so across restarts too), or earlier in this
                // batch: a retried POST must not count its edges twice.
                // The shared log's learner skips this: the executions log answered duplicates at ingest,
                // and every entry it holds must be learned (else the learner's cursor would not move).
                if (sharedCommit is null && _duplicateWindowCount > 0 && (_learned.Contains(execution.Id, now) || !inBatch.Add(execution.Id)))
                {
                    duplicates.Add(execution.Id);
                    continue;
                }

                learned.Add(execution.Id);
                var firstObservation = plan.Observations.Count;
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

                for (var o = firstObservation; o < plan.Observations.Count; o++)
                {
                    var observation = plan.Observations[o];
                    events.Add(observation.Created
                        ? new EdgeCreatedEvent(plan.ToolId(observation.From), plan.ToolId(observation.To), observation.NewConfidence, now)
                        : new EdgeUpdatedEvent(plan.ToolId(observation.From), plan.ToolId(observation.To), observation.OldConfidence, observation.NewConfidence, observation.ObservedCount, now));
                }

                events.Add(executed with { Timestamp = now });
            }

            if (learned.Count == 0)
            {
                return new ExecutionBatchResult(learned, duplicates, _snapshot);
            }

            // The state after the batch, built beside the current one: nothing the writer or a
            // reader holds changes until the batch is committed, so a failed commit leaves nothing to undo.
            var next = Prepare(plan);
            events.Add(MetricsEvent(next.Metrics.Metrics, now));
            if (activity is not null)
            {
                activity.AddEvent(new ActivityEvent(GraphEventsTracing.PlannedEvent));
                activity.SetTag(GraphEventsTracing.EventsTag, events.Count);
            }

            var changes = plan.ToChanges(learned[0]) with
            {
                LearnedExecutions = _duplicateWindowCount == 0 ? [] : [.. learned.Select(id => new LearnedExecution(id, now))],
                DuplicateWindowCount = _duplicateWindowCount,
                DuplicateWindowAge = _duplicateWindowAge,
            };
            if (sharedCommit is not null)
            {
                // Appended under the lease or not at all (the commit throws): installed only after.
                var position = await sharedCommit(events, _sharedOffset, cancellationToken).ConfigureAwait(false);
                _sharedOffset = position.Offset;
                return new ExecutionBatchResult(learned, duplicates, Install(next, position.Id));
            }

            var asOf = await CommitAsync(events, changes, plan.HasChanges || changes.LearnedExecutions.Count > 0, cancellationToken).ConfigureAwait(false);
            foreach (var id in learned)
            {
                _learned.Add(new LearnedExecution(id, now));
            }

            return new ExecutionBatchResult(learned, duplicates, Install(next, asOf));
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>
    /// Refuses, with an <see cref="ArgumentException"/> naming the execution, what this engine would
    /// refuse to learn; used by an ingest that appends executions to be learned later (the shared
    /// executions log), so that no entry it appends can be refused by the learner.
    /// </summary>
    internal void CheckExecutions(IReadOnlyList<WorkflowExecution> executions, string paramName)
    {
        ArgumentNullException.ThrowIfNull(executions);
        Check(executions, paramName);
    }

    private CheckedExecution[] Check(IReadOnlyList<WorkflowExecution> executions, string paramName)
    {
        var checkedExecutions = new CheckedExecution[executions.Count];
        for (var i = 0; i < checkedExecutions.Length; i++)
        {
            var execution = executions[i];
            ArgumentNullException.ThrowIfNull(execution, paramName);
            var toolOfTask = MapTasks(execution, paramName);
            var executionTimeMs = CheckExecutionTime(execution, paramName);
            var dependencies = DistinctDependencies(execution, paramName);
            var toolIds = new string[execution.Tasks.Count];
            for (var t = 0; t < toolIds.Length; t++)
            {
                toolIds[t] = execution.Tasks[t].Tool;
                CheckToolId(toolIds[t], paramName, $"Task '{execution.Tasks[t].Id}' of execution '{execution.Id}'");
            }

            var executed = new WorkflowExecutedEvent(execution.Id, toolIds, execution.Success, executionTimeMs, default);
            CheckEventSize(executed, execution.Id, paramName);
            checkedExecutions[i] = new CheckedExecution(execution, toolOfTask, dependencies, executed);
        }

        return checkedExecutions;
    }

    /// <summary>
    /// Makes a change and its events durable, then publishes them. With the broadcaster's durable
    /// log as the store: one transaction holds both. Otherwise the store is written first (when
    /// <paramref name="store"/>), and past it the change is real, so its events are published
    /// whatever the token says now. Returns the id of the last event, when the broadcaster knows it.
    /// </summary>
    private async ValueTask<string?> CommitAsync(IReadOnlyList<GraphEvent> events, ToolGraphChanges? changes, bool store, CancellationToken cancellationToken)
    {
        if (_transactional)
        {
            // The log's one write: either the change, its learned ids and its events are all in the
            // file, or none of them (a failure throws the store's exception and nothing changed).
            return await _broadcaster!.CommitAsync(events, store ? changes : null, cancellationToken).ConfigureAwait(false);
        }

        if (store && changes is not null)
        {
            await _store.SaveChangesAsync(changes, cancellationToken).ConfigureAwait(false);
        }

        if (_broadcaster is not null)
        {
            return await _broadcaster.CommitAsync(events, null, CancellationToken.None).ConfigureAwait(false);
        }

        foreach (var graphEvent in events)
        {
            await _publisher.PublishAsync(graphEvent, CancellationToken.None).ConfigureAwait(false);
        }

        return null;
    }

    public async ValueTask<ToolGraphSnapshot> SyncAsync(CancellationToken cancellationToken = default)
    {
        if (_shared)
        {
            // A replica's graph is the shared log's, not the store's: nothing to load.
            return _snapshot;
        }

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

            var loadedNodes = nodes.DrainToImmutable();
            EdgeData[] loadedEdges = [.. edges];
            var metrics = GraphMetricsCalculator.Compute(loadedNodes, loadedEdges, _seed, _snapshot.PageRankSpan);
            var duration = _timeProvider.GetElapsedTime(started).TotalMilliseconds;
            var now = _timeProvider.GetUtcNow();
            var synced = new GraphSyncedEvent(loadedNodes.Length, loadedEdges.Length, duration, now);

            // Nothing to store (the graph is the store's), but the event is committed like any
            // other, so that the snapshot knows the id it is as of.
            var asOf = await CommitAsync([synced], null, store: false, CancellationToken.None).ConfigureAwait(false);
            _edgeIndex = edgeIndex;
            var snapshot = Install(new PreparedState(loadedNodes, nodeIndex, loadedEdges, [], metrics), asOf);
            _learned.Load(contents.LearnedExecutions, now);
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
            var registered = nodes.DrainToImmutable();
            var edges = _edges;

            // New names or metadata do not move any metric; a new tool does (node count, density, ranks).
            var metrics = added ? GraphMetricsCalculator.Compute(registered, edges, _seed, _snapshot.PageRankSpan) : _snapshot.MetricsResult;
            GraphEvent[] events = added ? [MetricsEvent(metrics.Metrics, _timeProvider.GetUtcNow())] : [];
            // With a shared log, registration is each instance's own (every instance registers the same
            // catalog at start): nothing is appended, and the state stays as of the same shared event.
            var asOf = _shared ? _snapshot.AsOfEventId : await CommitAsync(events, new ToolGraphChanges(null, given, []), store: true, cancellationToken).ConfigureAwait(false);
            return Install(new PreparedState(registered, nodeIndex, edges, [], metrics), asOf);
        }
        finally
        {
            _writer.Release();
        }
    }

    private static Dictionary<string, string> MapTasks(WorkflowExecution execution, string paramName)
    {
        var toolOfTask = new Dictionary<string, string>(execution.Tasks.Count, StringComparer.Ordinal);
        foreach (var task in execution.Tasks)
        {
            ArgumentNullException.ThrowIfNull(task, paramName);
            if (!toolOfTask.TryAdd(task.Id, task.Tool))
            {
                throw new ArgumentException($"Execution '{execution.Id}' has two tasks with id '{task.Id}'.", paramName);
            }
        }

        foreach (var task in execution.Tasks)
        {
            foreach (var dependency in task.DependsOn)
            {
                if (dependency is null || !toolOfTask.ContainsKey(dependency))
                {
                    throw new ArgumentException($"Task '{task.Id}' of execution '{execution.Id}' depends on '{dependency}', which is not a task of that execution.", paramName);
                }
            }
        }

        return toolOfTask;
    }

    /// <summary>The execution's own duration as the event will carry it: finite and not negative; -0 becomes 0.</summary>
    private static double CheckExecutionTime(WorkflowExecution execution, string paramName)
    {
        var value = execution.ExecutionTimeMs;
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentException(
                $"Execution '{execution.Id}' has execution_time_ms {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be a finite number of milliseconds, at least 0.",
                paramName);
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
    private IReadOnlyList<string>[] DistinctDependencies(WorkflowExecution execution, string paramName)
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
                paramName);
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

    /// <summary>
    /// The writer state after <paramref name="plan"/>, built beside the current one (new arrays,
    /// the current ones untouched) with its metrics. PageRank starts from the current snapshot's
    /// scores: one change moves them little, so it converges in a few iterations.
    /// </summary>
    private PreparedState Prepare(ExecutionPlan plan)
    {
        var nodes = _nodes;
        var nodeIndex = _nodeIndex;
        if (plan.NewTools.Count > 0)
        {
            nodeIndex = new Dictionary<string, int>(_nodeIndex, StringComparer.Ordinal);
            foreach (var tool in plan.NewTools)
            {
                nodeIndex.Add(tool.Id, nodeIndex.Count);
            }

            nodes = _nodes.AddRange(plan.NewTools);
        }

        if (!plan.HasChanges)
        {
            return new PreparedState(nodes, nodeIndex, _edges, [], _snapshot.MetricsResult);
        }

        // One copy per change, which the snapshot then owns: the writer never mutates an array a
        // snapshot holds (the next change copies again), so snapshot and writer share it.
        var added = new List<(int From, int To)>();
        // Every element is written below (the copy, then the changed and added edges), so the
        // array is not zeroed first: at 10,000 edges that is 240 KB of memset per batch saved.
        var edges = GC.AllocateUninitializedArray<EdgeData>(_edges.Length + plan.NewEdgeCount);
        Array.Copy(_edges, edges, _edges.Length);
        var count = _edges.Length;
        foreach (var edge in plan.ChangedEdges)
        {
            if (_edgeIndex.TryGetValue((edge.From, edge.To), out var e))
            {
                edges[e] = edge;
            }
            else
            {
                added.Add((edge.From, edge.To));
                edges[count++] = edge;
            }
        }

        if (count != edges.Length)
        {
            // The plan counted its new edges wrong: an element would be left unwritten.
            throw new InvalidOperationException($"The plan adds {plan.NewEdgeCount} edges but holds {count - _edges.Length} new ones.");
        }

        var metrics = GraphMetricsCalculator.Compute(nodes, edges, _seed, _snapshot.PageRankSpan);
        return new PreparedState(nodes, nodeIndex, edges, added, metrics);
    }

    /// <summary>Makes a committed state the writer's and the current snapshot, as of <paramref name="asOfEventId"/>.</summary>
    private ToolGraphSnapshot Install(PreparedState state, string? asOfEventId)
    {
        _nodes = state.Nodes;
        _nodeIndex = state.NodeIndex;
        foreach (var key in state.AddedEdges)
        {
            _edgeIndex.Add(key, _edgeIndex.Count);
        }

        _edges = state.Edges;
        var snapshot = new ToolGraphSnapshot(++_version, _nodes, _nodeIndex, _edges, state.Metrics, asOfEventId);
        Volatile.Write(ref _snapshot, snapshot);
        return snapshot;
    }

    /// <summary>The writer state a change will install once it is committed.</summary>
    private sealed record PreparedState(ImmutableArray<ToolNode> Nodes, Dictionary<string, int> NodeIndex, EdgeData[] Edges, List<(int From, int To)> AddedEdges, GraphMetricsResult Metrics);

    /// <summary>An execution that passed every check, with what the checks worked out.</summary>
    private readonly record struct CheckedExecution(WorkflowExecution Execution, Dictionary<string, string> ToolOfTask, IReadOnlyList<string>[] Dependencies, WorkflowExecutedEvent Executed);

    /// <summary>One observed dependency, for its event.</summary>
    private readonly record struct Observation(int From, int To, bool Created, double OldConfidence, double NewConfidence, int ObservedCount);

    /// <summary>
    /// What an execution will change, worked out against the writer state without touching it, so
    /// that a store failure leaves nothing to undo.
    /// </summary>
    private sealed partial class ExecutionPlan(ToolGraphEngineCore engine)
    {
        private readonly Dictionary<string, int> _newToolIndex = new(StringComparer.Ordinal);
        private readonly Dictionary<(int From, int To), int> _changedIndex = [];

        public List<ToolNode> NewTools { get; } = [];

        /// <summary>The final state of each edge the execution touched, in first-touch order.</summary>
        public List<EdgeData> ChangedEdges { get; } = [];

        public List<Observation> Observations { get; } = [];

        public bool HasChanges => NewTools.Count > 0 || ChangedEdges.Count > 0;

        /// <summary>Edges the plan creates (not in the writer state yet).</summary>
        public int NewEdgeCount { get; private set; }

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
                    NewEdgeCount++;
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

        /// <summary>Sets an edge's state as a whole (a fold of the shared log), in first-touch order like <see cref="Observe"/>.</summary>
        private void SetState(EdgeData edge)
        {
            if (_changedIndex.TryGetValue((edge.From, edge.To), out var changed))
            {
                ChangedEdges[changed] = edge;
                return;
            }

            if (!engine._edgeIndex.ContainsKey((edge.From, edge.To)))
            {
                NewEdgeCount++;
            }

            _changedIndex.Add((edge.From, edge.To), ChangedEdges.Count);
            ChangedEdges.Add(edge);
        }

        private EdgeData Reinforce(EdgeData old)
        {
            var edge = old with { Confidence = Math.Min(old.Confidence * Reinforcement, MaxConfidence), ObservedCount = old.ObservedCount + 1 };
            Observations.Add(new Observation(old.From, old.To, false, old.Confidence, edge.Confidence, edge.ObservedCount));
            return edge;
        }
    }
}
