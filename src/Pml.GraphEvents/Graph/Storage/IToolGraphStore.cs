namespace Pml.GraphEvents;

/// <summary>
/// Where the tool graph is kept between runs. The engine reads it on sync and writes every change
/// to it before publishing that change, so what subscribers see is always what was stored.
/// </summary>
/// <remarks>
/// The engine calls a store from one writer at a time, but an implementation shared by several
/// engines or other code must be thread-safe itself. Both shipped stores are.
/// </remarks>
public interface IToolGraphStore
{
    /// <summary>Reads every tool and every edge.</summary>
    /// <exception cref="ToolGraphStoreException">The store cannot be read.</exception>
    ValueTask<ToolGraphStoreContents> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="changes"/> (inserting or replacing each tool and each edge) atomically:
    /// after a failure or a crash, either all of them are stored or none is.
    /// </summary>
    /// <exception cref="ToolGraphStoreException">The store cannot be written; nothing was stored.</exception>
    ValueTask SaveChangesAsync(ToolGraphChanges changes, CancellationToken cancellationToken = default);
}
