namespace Pml.GraphEvents.Server;

/// <summary>Where the server logs broadcast events (<see cref="ServerOptions.EventLog"/>).</summary>
public enum ServerEventLog
{
    /// <summary>In the SQLite database, with the graph: replay survives restarts.</summary>
    Sqlite,

    /// <summary>In memory only: every restart starts a new log (a new epoch).</summary>
    Memory,
}
