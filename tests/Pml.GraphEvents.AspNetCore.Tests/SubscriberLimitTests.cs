using System.Net;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class SubscriberLimitTests
{
    [Fact]
    public async Task With_100_clients_connected_the_101st_gets_503_with_the_JSON_body_Retry_After_and_CORS_headers()
    {
        await using var server = await StreamServer.StartAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => SseClient.OpenAsync(server.Client, server.StreamUri())));
        try
        {
            await Task.WhenAll(clients.Select(c => c.ReadAsync()));
            Assert.Equal(100, server.Broadcaster.SubscriberCount);

            using var request = new HttpRequestMessage(HttpMethod.Get, server.StreamUri());
            request.Headers.Add("Origin", "http://localhost:5173");
            using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("{\"error\":\"Too many clients\",\"max\":100}", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
            Assert.Equal("http://localhost:5173", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Contains("Origin", response.Headers.Vary);
            Assert.Equal(1, server.Broadcaster.GetStatistics().SubscribesRefused);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "every client gone");
    }
}
