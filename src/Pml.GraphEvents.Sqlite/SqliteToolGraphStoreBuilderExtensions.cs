using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Pml.GraphEvents.Sqlite;

/// <summary>Keeps the tool graph engine's graph in a SQLite file, on top of <c>AddGraphEvents()</c>.</summary>
public static class SqliteToolGraphStoreBuilderExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="SqliteToolGraphStore"/> on <paramref name="databasePath"/> as
    /// the <see cref="IToolGraphStore"/> of <c>AddToolGraphEngine()</c>. The container disposes it.
    /// </summary>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="databasePath">The database file; created, with its tables, on first use. A relative path is resolved against the current directory when the store is created.</param>
    /// <remarks>
    /// It replaces any store registered before it, so the call order with <c>AddToolGraphEngine()</c>
    /// does not matter: before, the engine keeps this store instead of adding its in-memory default;
    /// after, this store replaces that default. The file is opened, and its lock taken, when the
    /// engine first uses the store (<see cref="IToolGraphEngine.SyncAsync"/>).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="databasePath"/> is empty or white space.</exception>
    public static IGraphEventsBuilder AddSqliteToolGraphStore(this IGraphEventsBuilder builder, string databasePath)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Checked here rather than at start: a blank path is a programming error, not configuration.
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        builder.Services.Replace(ServiceDescriptor.Singleton<IToolGraphStore>(_ => new SqliteToolGraphStore(databasePath)));
        return builder;
    }
}
