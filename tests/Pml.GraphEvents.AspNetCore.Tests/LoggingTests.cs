using Microsoft.Extensions.Logging;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task Connect_refusal_and_disconnect_are_logged()
    {
        var logs = new ListLoggerProvider();
        await using var server = await StreamServer.StartAsync(
            events: o => o.MaxSubscribers = 1,
            configure: b =>
            {
                b.Logging.AddProvider(logs);
                b.Logging.SetMinimumLevel(LogLevel.Debug);
            });

        var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Last-Event-ID", "x"));
        await client.ReadAsync();
        using (var refused = await server.Client.GetAsync(server.StreamUri(), TestContext.Current.CancellationToken))
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        await client.DisposeAsync();
        await Eventually.HoldsAsync(() => logs.Entries.Any(e => e.Id.Id == 2), "the disconnect was logged");

        var entries = logs.Entries.ToList();
        Assert.Contains(entries, e => e.Id.Id == 5 && e.Level == LogLevel.Debug && e.Message.Contains("Last-Event-ID x", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Id.Id == 1 && e.Level == LogLevel.Information && e.Message.Contains("connected from 127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Id.Id == 4 && e.Level == LogLevel.Information && e.Message.Contains("limit of 1 subscribers", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Id.Id == 2 && e.Message.Contains("disconnected: Cancelled", StringComparison.Ordinal));
    }
}
