namespace Pml.GraphEvents;

/// <summary>A tool graph store could not be read or written. The message names the store (for SQLite, its file).</summary>
public sealed class ToolGraphStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ToolGraphStoreException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ToolGraphStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ToolGraphStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for the store at <paramref name="storePath"/>.</summary>
    /// <param name="storePath">The store's file, or another name for it.</param>
    /// <param name="message">What went wrong; should name <paramref name="storePath"/>.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ToolGraphStoreException(string storePath, string message, Exception? innerException)
        : base(message, innerException)
    {
        StorePath = storePath;
    }

    /// <summary>The store's file (or name), when known.</summary>
    public string? StorePath { get; }
}
