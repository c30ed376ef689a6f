using System.Net;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class CorsTests
{
    [Theory]
    [InlineData("http://localhost:3000")]
    [InlineData("http://localhost:5173")]
    [InlineData("http://LOCALHOST:8080")]
    [InlineData("http://localhost")]
    [InlineData("http://127.0.0.1:5000")]
    public async Task An_allowed_origin_is_echoed(string origin)
    {
        await using var server = await StreamServer.StartAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Origin", origin));

        Assert.Equal(HttpStatusCode.OK, client.Response.StatusCode);
        Assert.Equal(origin, Assert.Single(client.Response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal(["Origin"], client.Response.Headers.Vary);
        Assert.Equal("connected", (await client.ReadAsync()).EventType);
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("http://localhost:3000.evil.com")]
    [InlineData("http://127.0.0.1.evil.com")]
    [InlineData("http://localhost.evil.com:3000")]
    [InlineData("http://evil.com/http://localhost:3000")]
    [InlineData("http://localhost:3000@evil.com")]
    [InlineData("https://localhost:3000")]
    [InlineData("null")]
    [InlineData("file://")]
    [InlineData("http://[::1]:3000")]
    public async Task A_disallowed_or_look_alike_origin_gets_no_Access_Control_Allow_Origin(string origin)
    {
        await using var server = await StreamServer.StartAsync();
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.TryAddWithoutValidation("Origin", origin));

        // The stream itself is served (CORS is enforced by the browser); only the permission is withheld.
        Assert.Equal(HttpStatusCode.OK, client.Response.StatusCode);
        Assert.False(client.Response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(["Origin"], client.Response.Headers.Vary);
    }

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered()
    {
        await using var server = await StreamServer.StartAsync();
        using var request = Preflight(server, "http://localhost:3000");
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("http://localhost:3000", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("GET", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Contains("last-event-id", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Origin", response.Headers.Vary);
        Assert.Equal(0, server.Broadcaster.SubscriberCount);
    }

    [Theory]
    [InlineData("http://localhost:3000.evil.com")]
    [InlineData("http://127.0.0.1.evil.com")]
    [InlineData("null")]
    public async Task A_preflight_from_a_disallowed_origin_gets_no_permission(string origin)
    {
        await using var server = await StreamServer.StartAsync();
        using var request = Preflight(server, origin);
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Methods"));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PROPFIND")]
    public async Task A_preflight_for_another_method_is_answered_as_ASP_NET_Core_CORS_does_allowing_GET_only(string method)
    {
        await using var server = await StreamServer.StartAsync();
        using var request = Preflight(server, "http://localhost:3000", method);
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        // The browser compares the allowed methods with its own and refuses the POST itself.
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["Origin"], response.Headers.Vary);
        Assert.Equal("http://localhost:3000", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("GET", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Equal(0, server.Broadcaster.SubscriberCount);

        using var refused = Preflight(server, "http://evil.example", method);
        using var answer = await server.Client.SendAsync(refused, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal(["Origin"], answer.Headers.Vary);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Methods"));
    }

    [Fact]
    public async Task Configured_origins_replace_the_defaults()
    {
        await using var server = await StreamServer.StartAsync(
            configure: b => b.Configuration["GraphEvents:Stream:AllowedOrigins:0"] = "https://dashboard.example:*");

        await using (var allowed = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Origin", "https://dashboard.example:8443")))
        {
            Assert.Equal("https://dashboard.example:8443", Assert.Single(allowed.Response.Headers.GetValues("Access-Control-Allow-Origin")));
        }

        await using var defaultOne = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add("Origin", "http://localhost:3000"));
        Assert.False(defaultOne.Response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private static HttpRequestMessage Preflight(TestHost server, string origin, string method = "GET")
    {
        var request = new HttpRequestMessage(HttpMethod.Options, server.StreamUri());
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", "last-event-id");
        return request;
    }
}
