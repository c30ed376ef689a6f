namespace Pml.GraphEvents;

/// <summary>
/// The tool graph engine: learns tool-to-tool edges from workflow executions, keeps them in an
/// <see cref="IToolGraphStore"/>, recomputes metrics, and publishes graph events.
/// Create one with <see cref="ToolGraphEngine.Create"/> or <c>AddToolGraphEngine()</c>.
/// </summary>
/// <remarks>
/// <para>
/// Concurrency: one writer, many readers. Changes (<see cref="UpdateFromExecutionAsync"/>,
/// <see cref="SyncAsync"/>, <see cref="RegisterToolsAsync"/>) may be called from any number of
/// threads; they run one at a time, in the order they acquire the engine's writer lock, and each
/// publishes all its events before the next starts, so the events of two executions never
/// interleave. <see cref="Snapshot"/> never waits: it returns the latest immutable state, swapped
/// in atomically after each change.
/// </para>
/// <para>
/// Every change is stored before (or, with the SQLite store as the broadcaster's event log, in the
/// same transaction as) its events are published or made visible: when the store fails,
/// the graph stays as it was, nothing is published, and the <see cref="ToolGraphStoreException"/>
/// reaches the caller. Cancellation is honoured until the store commits; after that the change's
/// events are published whatever the token says, so subscribers never miss a stored change.
/// </para>
/// </remarks>
public interface IToolGraphEngine
{
    /// <summary>The current state of the graph. Never blocks; the object returned never changes.</summary>
    ToolGraphSnapshot Snapshot { get; }

    /// <summary>
    /// Learns from one execution. For every task and every task it depends on, in task order, the
    /// edge <c>dependency.Tool → task.Tool</c> is observed: an existing edge gets
    /// <c>observed_count + 1</c> and confidence <c>min(old × 1.1, 1)</c> (<c>edge_updated</c>); a
    /// new edge between known tools starts at 0.5, count 1 (<c>edge_created</c>). Self-loops are
    /// skipped; edges with an unknown tool are skipped unless
    /// <see cref="ToolGraphEngineOptions.AutoRegisterUnknownTools"/> is set. A dependency listed
    /// twice in one task's <c>depends_on</c> is one dependency, observed once; the same pair of
    /// tools met through two different pairs of tasks is observed twice. Then the change is stored,
    /// metrics are recomputed, and <c>workflow_executed</c> then <c>metrics_updated</c> are published
    /// after the edge events.
    /// </summary>
    /// <remarks>
    /// An execution is refused with an <see cref="ArgumentException"/>, before anything is learned,
    /// stored or published, when it has more distinct task dependencies than
    /// <see cref="ToolGraphEngineOptions.MaxEdgesPerExecution"/> (each is an edge observation,
    /// counted even when it turns out to be a self-loop or to name an unknown tool), when its
    /// <see cref="WorkflowExecution.ExecutionTimeMs"/> is not a finite number of at least 0 (-0 is
    /// published as 0), or when one of its events would be larger than
    /// <see cref="GraphEventsOptions.MaxEventBytes"/>: its <c>workflow_executed</c> event, or a tool id
    /// over a tenth of that limit as JSON (<c>metrics_updated</c> lists up to ten tool ids).
    /// </remarks>
    /// <returns>The snapshot this execution produced.</returns>
    /// <exception cref="ArgumentException">
    /// Two tasks share an id; a task depends on a task id the execution does not have; or the
    /// execution is over one of the bounds above. The message names the field and the option.
    /// </exception>
    /// <exception cref="ToolGraphStoreException">The store failed; the graph is unchanged and nothing was published.</exception>
    ValueTask<ToolGraphSnapshot> UpdateFromExecutionAsync(WorkflowExecution execution, CancellationToken cancellationToken = default);

    /// <summary>
    /// Learns from a batch of executions, all or nothing: each is learned as
    /// <see cref="UpdateFromExecutionAsync"/> describes, in order, and the whole batch is stored in
    /// one transaction, its events (each execution's edge events and <c>workflow_executed</c>, then
    /// one <c>metrics_updated</c> for the batch) published as one block. An execution whose
    /// <see cref="WorkflowExecution.Id"/> was learned within the duplicate window
    /// (<see cref="ToolGraphEngineOptions.DuplicateWindowCount"/> and <see cref="ToolGraphEngineOptions.DuplicateWindowAge"/>;
    /// kept by the store, so across restarts with a persistent one), or earlier in the batch, is not
    /// learned again and is listed in <see cref="ExecutionBatchResult.Duplicates"/>.
    /// </summary>
    /// <remarks>
    /// Every execution is checked first (see <see cref="UpdateFromExecutionAsync"/>): one that is
    /// refused refuses the batch, before anything is learned. With the SQLite store as the
    /// broadcaster's event log (the server's default), the graph change, the learned ids and the
    /// events are one SQLite transaction: after a crash, either all of the batch is learned and its
    /// events are in the log, or none of it.
    /// </remarks>
    /// <returns>Which executions were learned, which were duplicates, and the snapshot after the batch.</returns>
    /// <exception cref="ArgumentException">An execution is refused (see <see cref="UpdateFromExecutionAsync"/>); nothing was learned.</exception>
    /// <exception cref="ToolGraphStoreException">The store failed; the graph is unchanged and nothing was published.</exception>
    ValueTask<ExecutionBatchResult> UpdateFromExecutionsAsync(IReadOnlyList<WorkflowExecution> executions, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the graph with the store's contents: every tool, and the edges whose confidence is
    /// above <see cref="ToolGraphEngineOptions.SyncConfidenceThreshold"/> and whose two tools
    /// exist. Recomputes metrics and publishes <c>graph_synced</c> with the time the sync took.
    /// </summary>
    /// <returns>The snapshot loaded.</returns>
    /// <exception cref="ToolGraphStoreException">The store cannot be read; the graph is unchanged and nothing was published.</exception>
    ValueTask<ToolGraphSnapshot> SyncAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds tools to the graph, or replaces the name, server and metadata of tools it has. When
    /// that adds a tool, metrics are recomputed and <c>metrics_updated</c> is published.
    /// </summary>
    /// <returns>The snapshot after the registration.</returns>
    /// <exception cref="ArgumentException">A tool id takes more than a tenth of <see cref="GraphEventsOptions.MaxEventBytes"/> as JSON; nothing is registered.</exception>
    /// <exception cref="ToolGraphStoreException">The store failed; the graph is unchanged and nothing was published.</exception>
    ValueTask<ToolGraphSnapshot> RegisterToolsAsync(IEnumerable<ToolNode> tools, CancellationToken cancellationToken = default);
}
