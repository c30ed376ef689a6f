using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Pml.GraphEvents.Sqlite;

/// <summary>
/// Binds <see cref="SqliteEventLogOptions"/> from the <c>GraphEvents:EventLog</c> section of the host's <see cref="IConfiguration"/>, which it
/// takes from the container when the options are first built, not when the services are added: a host
/// that registers its configuration after calling <c>AddSqliteToolGraphStore</c> is bound all the same, and one
/// without configuration keeps the defaults (and whatever code sets). Registered before any code
/// <c>configure</c> delegate, so code wins over configuration.
/// </summary>
internal sealed class SqliteEventLogConfigurationBinding(IConfiguration? configuration = null) : IConfigureOptions<SqliteEventLogOptions>
{
    public void Configure(SqliteEventLogOptions options) => configuration?.GetSection(SqliteEventLogOptions.SectionName).Bind(options);
}
