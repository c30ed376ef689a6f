namespace Pml.GraphEvents.Testing;

/// <summary>A SQLite path in a fresh temporary directory, deleted with the directory.</summary>
internal sealed class TempDatabase : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pml-graph-tests-").FullName;

    public string Path => System.IO.Path.Combine(_directory, "graph.db");

    public void Dispose()
    {
        // No SqliteConnection.ClearAllPools here: the store opens its file without pooling, and the
        // test projects that share this file need not reference the SQLite package.
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a connection being torn down; the OS cleans temp directories.
        }
    }
}
