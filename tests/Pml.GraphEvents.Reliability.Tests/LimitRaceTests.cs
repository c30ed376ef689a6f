using System.Net;

namespace Pml.GraphEvents.Reliability.Tests;

/// <summary>The subscriber limit holds under a stampede.</summary>
public sealed class LimitRaceTests
{
    private const int Limit = 100;
    private const int Attempts = 500;

    [Fact]
    public async Task Five_hundred_concurrent_connects_at_limit_100_admit_exactly_100_and_refuse_the_rest_with_503()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["GraphEvents:MaxSubscribers"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["GraphEvents:Stream:RetryAfter"] = "00:00:07",

            // Every attempt comes from 127.0.0.1: the race is for the subscriber limit, not the per-address one.
            ["GraphEvents:Stream:MaxStreamsPerAddress"] = Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // Every connection is open before any request is sent, so the requests race for the slots.
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Attempts, MaxResponseDrainSize = 0 };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = Eventually.Deadline };
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = Enumerable.Range(0, Attempts).Select(async _ =>
        {
            await start.Task;
            var request = new HttpRequestMessage(HttpMethod.Get, server.StreamUri());
            request.Headers.Add("Origin", "http://localhost:3000");
            return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
        }).ToList();
        start.SetResult();
        var responses = await Task.WhenAll(attempts);
        try
        {
            Assert.Equal(Limit, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
            var refused = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
            Assert.Equal(Attempts - Limit, refused.Count);
            foreach (var response in refused)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
                Assert.Equal("http://localhost:3000", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(token));
                Assert.Equal("Too many clients", json.RootElement.GetProperty("error").GetString());
                Assert.Equal(Limit, json.RootElement.GetProperty("max").GetInt32());
            }

            Assert.Equal(Limit, server.Broadcaster.SubscriberCount);
            Assert.Equal(Attempts - Limit, server.Broadcaster.GetStatistics().SubscribesRefused);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        // Closing the admitted streams frees every slot: the next client is admitted.
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "every admitted stream ended");
        using var again = await client.GetAsync(server.StreamUri(), HttpCompletionOption.ResponseHeadersRead, token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }
}
