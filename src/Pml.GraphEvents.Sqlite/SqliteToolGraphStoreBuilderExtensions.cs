using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Sqlite;

/// <summary>Keeps the tool graph engine's graph, and the broadcaster's event log, in a SQLite file, on top of <c>AddGraphEvents()</c>.</summary>
public static class SqliteToolGraphStoreBuilderExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="SqliteToolGraphStore"/> on <paramref name="databasePath"/> as
    /// the <see cref="IToolGraphStore"/> of <c>AddToolGraphEngine()</c> and as the broadcaster's event
    /// log: one instance, one file, so that a graph change and its events commit together. The
    /// container disposes it. Event log options are validated when the host starts.
    /// </summary>
    /// <param name="builder">What <c>AddGraphEvents()</c> returned.</param>
    /// <param name="databasePath">The database file; created, with its tables, on first use. A relative path is resolved against the current directory when the store is created.</param>
    /// <param name="configureEventLog">Sets the event log's retention in code; applied after configuration binding.</param>
    /// <remarks>
    /// It replaces any store (and event log) registered before it, so the call order with
    /// <c>AddToolGraphEngine()</c> does not matter: before, the engine keeps this store instead of
    /// adding its in-memory default; after, this store replaces that default. The file is opened,
    /// and its lock taken, when the engine or the broadcaster first uses the store
    /// (<see cref="IToolGraphEngine.SyncAsync"/>, or the broadcaster's start).
    /// <para>
    /// The event log's options are bound from the <c>GraphEvents:EventLog</c> section of the
    /// <see cref="IConfiguration"/> in the container (for example <c>GraphEvents:EventLog:MaxEvents</c>),
    /// taken when the options are first built: the host may register its configuration before or
    /// after this call. Without one, the defaults apply. Configuration is applied first, then
    /// <paramref name="configureEventLog"/>, so code wins.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="databasePath"/> is empty or white space.</exception>
    public static IGraphEventsBuilder AddSqliteToolGraphStore(this IGraphEventsBuilder builder, string databasePath, Action<SqliteEventLogOptions>? configureEventLog = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Checked here rather than at start: a blank path is a programming error, not configuration.
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        var services = builder.Services;

        // Bound when the options are built, from whatever IConfiguration the container has then, so
        // the order in which the host registers its configuration and calls this does not matter.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<SqliteEventLogOptions>, SqliteEventLogConfigurationBinding>());
        var options = services.AddOptions<SqliteEventLogOptions>().ValidateOnStart();
        if (configureEventLog is not null)
        {
            options.Configure(configureEventLog);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteEventLogOptions>, OptionsValidator<SqliteEventLogOptions>>(static _ => new(static o => o.Validate())));

        // One instance behind both services: the log's appends and the engine's saves share its
        // connection and its gate, and an append's graph changes go in the log's transaction.
        // Resolving the options runs the validators, so a store never opens with bad retention.
        services.Replace(ServiceDescriptor.Singleton(provider => new SqliteToolGraphStore(databasePath, provider.GetRequiredService<IOptions<SqliteEventLogOptions>>().Value)));
        services.Replace(ServiceDescriptor.Singleton<IToolGraphStore>(static provider => provider.GetRequiredService<SqliteToolGraphStore>()));
        services.Replace(ServiceDescriptor.Singleton<IGraphEventLog>(static provider => provider.GetRequiredService<SqliteToolGraphStore>()));
        return builder;
    }
}
