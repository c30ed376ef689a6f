using System.Collections.Immutable;

namespace Pml.GraphEvents;

/// <summary>
/// Appends a learned batch's events to the shared log under the learner's lease, as one unit that
/// follows the unit at <paramref name="expectedOffset"/>: the position of the unit's last event, or
/// an exception when nothing was appended (the lease was lost, the log moved on, Redis is away).
/// </summary>
internal delegate ValueTask<SharedLogPosition> SharedLogCommit(IReadOnlyList<GraphEvent> events, long expectedOffset, CancellationToken cancellationToken);

/// <summary>Where a unit of graph events ended in the shared log: its last event's offset and id.</summary>
internal readonly record struct SharedLogPosition(long Offset, string Id);

/// <summary>What <see cref="ToolGraphEngineCore.ApplySharedUnitAsync"/> did with a unit.</summary>
internal enum SharedUnitResult
{
    /// <summary>Folded in: the replica is now as of the unit's last event.</summary>
    Applied,

    /// <summary>Already in the state (this instance learned it, or a snapshot covered it): nothing changed.</summary>
    AlreadyApplied,

    /// <summary>The unit does not follow the state (events were missed): nothing changed; load a snapshot.</summary>
    Gap,
}

/// <summary>A replica's whole state at a position of the shared log: what a late instance starts from.</summary>
internal sealed record SharedGraphState(ImmutableArray<ToolNode> Nodes, EdgeData[] Edges, GraphMetricsResult Metrics, long Offset);

/// <summary>
/// The engine as one replica of a graph learned once for many instances (DESIGN §7): one instance at
/// a time learns (<see cref="LearnAsync"/>, appending under a lease through a <see cref="SharedLogCommit"/>),
/// and every instance folds the shared log's units into the same state (<see cref="ApplySharedUnitAsync"/>).
/// A unit is one learned batch: each execution's edge events, its <c>workflow_executed</c>, and one
/// <c>metrics_updated</c> at the end. Edge events carry the edge's whole state, so folding needs no
/// arithmetic that could drift; and a unit is folded as one change, with the same plan and the same
/// warm start as the learner's, so every replica's metrics are the learner's to the last bit.
/// </summary>
internal sealed partial class ToolGraphEngineCore
{
    // Set once, before the host starts: from then on, changes come from the shared log only.
    private bool _shared;

    // The offset (in the shared log) of the last event of the last unit in the state; 0 before
    // any. Written under _writer; read without it where a recent value will do.
    private long _sharedOffset;

    /// <summary>The offset of the last shared unit folded in or learned; 0 before any.</summary>
    internal long SharedOffset => Volatile.Read(ref _sharedOffset);

    /// <summary>
    /// Makes this engine a replica of a shared log: its own publisher gets nothing from it any more
    /// (registration and sync change only this instance's state), and executions are learned only
    /// through <see cref="LearnAsync"/>. Called once, before the host starts.
    /// </summary>
    internal void UseSharedLog() => _shared = true;

    /// <summary>
    /// Learns <paramref name="executions"/> as one batch and appends its events through
    /// <paramref name="commit"/>; the state is installed only once they are appended. Every
    /// execution is learned: duplicates were answered when they were appended to the executions log.
    /// </summary>
    internal ValueTask<ExecutionBatchResult> LearnAsync(IReadOnlyList<WorkflowExecution> executions, SharedLogCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(executions);
        ArgumentNullException.ThrowIfNull(commit);
        return UpdateAsync(executions, nameof(executions), commit, cancellationToken);
    }

    /// <summary>
    /// Folds one unit read from the shared log: its events, the offset of the unit before it
    /// (<paramref name="baseOffset"/>, 0 for the first) and of its own last event.
    /// </summary>
    internal async ValueTask<SharedUnitResult> ApplySharedUnitAsync(IReadOnlyList<GraphEvent> unit, long baseOffset, long lastOffset, string lastId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unit);
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // This instance's own units come back from the log after it installed them.
            if (lastOffset <= _sharedOffset)
            {
                return SharedUnitResult.AlreadyApplied;
            }

            if (baseOffset != _sharedOffset)
            {
                return SharedUnitResult.Gap;
            }

            var plan = new ExecutionPlan(this);
            List<GraphEvent> edges = [];
            foreach (var graphEvent in unit)
            {
                switch (graphEvent)
                {
                    case EdgeCreatedEvent or EdgeUpdatedEvent:
                        edges.Add(graphEvent);
                        break;
                    case WorkflowExecutedEvent executed:
                        // The learner registers an execution's tools in task order before its
                        // edges; so does the fold, so every replica numbers tools alike.
                        if (_autoRegister)
                        {
                            foreach (var tool in executed.ToolIds)
                            {
                                plan.Resolve(tool);
                            }
                        }

                        SetEdges(plan, edges);
                        break;
                }
            }

            SetEdges(plan, edges);
            var next = Prepare(plan);
            _sharedOffset = lastOffset;
            Install(next, lastId);
            return SharedUnitResult.Applied;
        }
        finally
        {
            _writer.Release();
        }

        static void SetEdges(ExecutionPlan plan, List<GraphEvent> edges)
        {
            foreach (var graphEvent in edges)
            {
                switch (graphEvent)
                {
                    case EdgeCreatedEvent created:
                        plan.Set(created.FromToolId, created.ToToolId, created.ConfidenceScore, 1);
                        break;
                    case EdgeUpdatedEvent updated:
                        plan.Set(updated.FromToolId, updated.ToToolId, updated.NewConfidence, updated.ObservedCount);
                        break;
                }
            }

            edges.Clear();
        }
    }

    /// <summary>The whole state and the shared offset it is as of, consistent (taken under the writer lock).</summary>
    internal async ValueTask<SharedGraphState> ExportSharedAsync(CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new SharedGraphState(_nodes, _edges, _snapshot.MetricsResult, _sharedOffset);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>
    /// Replaces the whole state with <paramref name="state"/> (a snapshot another instance wrote), as
    /// of <paramref name="asOfId"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The state does not hold together (an edge to a tool it does not have, arrays of the wrong length).</exception>
    internal async ValueTask ImportSharedAsync(SharedGraphState state, string? asOfId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var nodeIndex = new Dictionary<string, int>(state.Nodes.Length, StringComparer.Ordinal);
        foreach (var node in state.Nodes)
        {
            if (!nodeIndex.TryAdd(node.Id, nodeIndex.Count))
            {
                throw new InvalidDataException($"The snapshot lists tool '{node.Id}' twice.");
            }
        }

        var edgeIndex = new Dictionary<(int From, int To), int>(state.Edges.Length);
        foreach (var edge in state.Edges)
        {
            if ((uint)edge.From >= (uint)state.Nodes.Length || (uint)edge.To >= (uint)state.Nodes.Length || edge.From == edge.To || !edgeIndex.TryAdd((edge.From, edge.To), edgeIndex.Count))
            {
                throw new InvalidDataException($"The snapshot has an edge {edge.From} → {edge.To} that does not fit its {state.Nodes.Length} tools.");
            }
        }

        if (state.Metrics.PageRank.Length != state.Nodes.Length || state.Metrics.Community.Length != state.Nodes.Length)
        {
            throw new InvalidDataException("The snapshot's PageRank or communities do not have one value per tool.");
        }

        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _edgeIndex = edgeIndex;
            _sharedOffset = state.Offset;
            Install(new PreparedState(state.Nodes, nodeIndex, state.Edges, [], state.Metrics), asOfId);
        }
        finally
        {
            _writer.Release();
        }
    }

    private void ThrowIfShared()
    {
        if (_shared)
        {
            throw new InvalidOperationException(
                "This engine is a replica of a shared graph (a learner on Redis is configured): executions are learned once, by the instance that holds the learner's lease. "
                + "Submit them with IExecutionIngest, which appends them to the shared executions log.");
        }
    }

    /// <summary>The plan's side of a fold: sets an edge to the state an event carries.</summary>
    private sealed partial class ExecutionPlan
    {
        public void Set(string fromToolId, string toToolId, double confidence, int observedCount)
        {
            var from = Resolve(fromToolId);
            var to = Resolve(toToolId);
            if (from < 0 || to < 0 || from == to)
            {
                return;
            }

            SetState(new EdgeData(from, to, confidence, observedCount));
        }
    }
}
