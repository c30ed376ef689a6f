using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>
/// <see cref="GraphEventStreamOptions.Events"/>: OnConnected before the first byte (it may refuse),
/// OnDisconnected once for every stream it let open, however the stream ended, and
/// <c>RequireAuthorization()</c> composing with both.
/// </summary>
public sealed class StreamHooksTests
{
    [Fact]
    public async Task Connected_and_disconnected_are_called_once_each_with_the_streams_client_id_resume_point_and_filter()
    {
        var hooks = new Recorder();
        await using var server = await StreamServer.StartAsync(stream: hooks.Install);
        var client = await SseClient.OpenAsync(server.Client, server.StreamUri("?types=edge_created"), r => r.Headers.Add("Last-Event-ID", "0"));
        string clientId;
        try
        {
            var connected = await client.ReadAsync();
            Assert.Equal("connected", connected.EventType);
            clientId = JsonDocument.Parse(connected.Data).RootElement.GetProperty("client_id").GetString()!;
            var opened = Assert.Single(hooks.Connected);
            Assert.Equal(clientId, opened.ClientId);
            Assert.Equal("0", opened.LastEventId);
            Assert.Equal(["edge_created"], opened.EventTypes!);
            Assert.Equal(StreamServer.Path, opened.HttpContext.Request.Path);
            Assert.Empty(hooks.Disconnected);
        }
        finally
        {
            // The client goes away, as a closed tab does.
            await client.DisposeAsync();
        }

        var ended = await hooks.NextDisconnectAsync();
        Assert.Equal(clientId, ended.ClientId);
        Assert.Equal("0", ended.LastEventId);
        Assert.Equal(["edge_created"], ended.EventTypes!);
        Assert.True(ended.Result.EndReason is GraphEventStreamEndReason.Cancelled or GraphEventStreamEndReason.OutputClosed, $"Ended: {ended.Result.EndReason}");
        Assert.True(ended.Result.FramesWritten >= 1, "The connected frame was counted.");
        Assert.True(ended.Result.BytesWritten > 0);
        Assert.Equal(0, server.Broadcaster.SubscriberCount);
        Assert.Single(hooks.Connected);
        Assert.Single(hooks.Disconnected);
    }

    [Fact]
    public async Task A_slow_OnConnected_holds_only_its_own_stream_which_then_gets_what_was_published_meanwhile()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        await using var server = await StreamServer.StartAsync(stream: o => o.Events.OnConnected = _ =>
            Interlocked.Increment(ref calls) == 1 ? release.Task : Task.CompletedTask);

        var slowOpening = SseClient.OpenAsync(server.Client, server.StreamUri());
        await Eventually.HoldsAsync(() => Volatile.Read(ref calls) == 1 && server.Broadcaster.SubscriberCount == 1, "the first stream is in its hook");
        await using var fast = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal("connected", (await fast.ReadAsync()).EventType);

        await server.Broadcaster.PublishAsync([SampleEvents.Edge(0)]);
        Assert.Equal(1, EventIds.Offset((await fast.ReadAsync()).EventId));
        Assert.False(slowOpening.IsCompleted, "The first stream's headers waited for its hook.");

        release.SetResult();
        await using var slow = await slowOpening;
        Assert.Equal("connected", (await slow.ReadAsync()).EventType);
        Assert.Equal(1, EventIds.Offset((await slow.ReadAsync()).EventId));
    }

    [Fact]
    public async Task Disconnected_reports_the_lifetimes_end_with_its_duration()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        var hooks = new Recorder();
        await using var server = await StreamServer.StartAsync(
            stream: o =>
            {
                hooks.Install(o);
                o.MaxStreamDuration = TimeSpan.FromMinutes(1);
                o.WriteTimeout = TimeSpan.FromHours(1);
            },
            configure: b => b.Services.AddSingleton<TimeProvider>(time));
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal("connected", (await client.ReadAsync()).EventType);

        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(1));
        var ended = await hooks.NextDisconnectAsync();
        Assert.Equal(GraphEventStreamEndReason.MaxDurationReached, ended.Result.EndReason);
        Assert.InRange(ended.Duration, TimeSpan.FromSeconds(54), TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(1));
        Assert.Equal(Assert.Single(hooks.Connected).ClientId, ended.ClientId);
        Assert.Single(hooks.Disconnected);
    }

    [Fact]
    public async Task Disconnected_reports_a_write_timeout_of_a_client_that_stopped_reading()
    {
        var hooks = new Recorder();
        await using var server = await StreamServer.StartAsync(
            events: o => o.SubscriberBufferCapacity = 4096,
            stream: o =>
            {
                hooks.Install(o);
                o.WriteTimeout = TimeSpan.FromMilliseconds(500);
            });

        // Connected, request sent, never read: its TCP window fills and the server's flush blocks.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(server.EndPoint, TestContext.Current.CancellationToken);
        await stalled.SendAsync(RawHttp.Get(StreamServer.Path), TestContext.Current.CancellationToken);
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 1, "the stalled client subscribed");

        var published = 0;
        for (var batch = 0; batch < 200 && hooks.Disconnected.IsEmpty; batch++)
        {
            for (var i = 0; i < 16; i++)
            {
                await server.Broadcaster.PublishAsync(SampleEvents.Big(published++, 16 * 1024), TestContext.Current.CancellationToken);
            }

            // Bounded: a batch's worth of time for the writer to block, then the next batch.
            await Task.WhenAny(hooks.FirstDisconnect, Task.Delay(100, TestContext.Current.CancellationToken));
        }

        var ended = await hooks.NextDisconnectAsync();
        Assert.Equal(GraphEventStreamEndReason.WriteTimedOut, ended.Result.EndReason);
        Assert.Equal(Assert.Single(hooks.Connected).ClientId, ended.ClientId);
        Assert.Equal(0, server.Broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task A_throwing_OnConnected_answers_500_and_leaks_no_subscriber()
    {
        var disconnected = 0;
        var calls = 0;
        IGraphEventBroadcaster? broadcaster = null;
        await using var server = await StreamServer.StartAsync(stream: o =>
        {
            o.Events.OnConnected = context =>
            {
                // The subscription is taken when the hook runs: a slot the throw must give back.
                Assert.Equal(1, broadcaster!.SubscriberCount);
                Interlocked.Increment(ref calls);
                throw new InvalidOperationException("the hook's bug");
            };
            o.Events.OnDisconnected = _ =>
            {
                Interlocked.Increment(ref disconnected);
                return Task.CompletedTask;
            };
        });
        broadcaster = server.Broadcaster;

        for (var i = 0; i < 3; i++)
        {
            using var response = await server.Client.GetAsync(server.StreamUri(), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }

        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "no subscription outlived its request");
        Assert.Equal(3, Volatile.Read(ref calls));
        Assert.Equal(0, Volatile.Read(ref disconnected));
    }

    [Fact]
    public async Task A_Reject_from_OnConnected_answers_its_status_with_CORS_headers_and_frees_the_slot()
    {
        var hooks = new Recorder(reject: 403);
        await using var server = await StreamServer.StartAsync(stream: hooks.Install);
        using var request = new HttpRequestMessage(HttpMethod.Get, server.StreamUri());
        request.Headers.Add("Origin", "http://localhost:3000");
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("http://localhost:3000", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("Origin", response.Headers.Vary);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Single(hooks.Connected);
        await Eventually.HoldsAsync(() => server.Broadcaster.SubscriberCount == 0, "the rejected subscription was disposed");
        Assert.Empty(hooks.Disconnected);
    }

    [Fact]
    public async Task Null_hooks_stop_start_up_naming_the_option()
    {
        var noEvents = await Assert.ThrowsAsync<OptionsValidationException>(() => StreamServer.StartAsync(stream: o => o.Events = null!));
        Assert.Contains("GraphEvents:Stream:Events must not be null", noEvents.Message, StringComparison.Ordinal);
        var noHook = await Assert.ThrowsAsync<OptionsValidationException>(() => StreamServer.StartAsync(stream: o => o.Events.OnDisconnected = null!));
        Assert.Contains("GraphEvents:Stream:Events:OnDisconnected must not be null", noHook.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reject_takes_error_statuses_only()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NewContext().Reject(200));
        Assert.Throws<ArgumentOutOfRangeException>(() => NewContext().Reject(600));
        var context = NewContext();
        context.Reject(401);
        Assert.Equal(401, context.RejectedStatusCode);

        static GraphEventStreamConnectedContext NewContext() => new(new Microsoft.AspNetCore.Http.DefaultHttpContext(), "c", null, null);
    }

    [Fact]
    public async Task A_throwing_OnDisconnected_is_logged_and_the_stream_still_ends_cleanly()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        var logs = new ListLoggerProvider();
        await using var server = await StreamServer.StartAsync(
            stream: o =>
            {
                o.Events.OnDisconnected = _ => throw new InvalidOperationException("the hook's bug");
                o.MaxStreamDuration = TimeSpan.FromMinutes(1);
                o.WriteTimeout = TimeSpan.FromHours(1);
            },
            configure: b =>
            {
                b.Services.AddSingleton<TimeProvider>(time);
                b.Logging.AddProvider(logs);
            });
        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal("connected", (await client.ReadAsync()).EventType);

        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(1));

        // A complete chunked body, not a reset connection (which would throw here).
        while (await client.NextAsync() is { } item)
        {
            Assert.Equal("heartbeat", item.EventType);
        }

        await Eventually.HoldsAsync(() => logs.Entries.Any(e => e.Id.Id == 9), "the hook's failure was logged");
    }

    [Fact]
    public async Task RequireAuthorization_answers_401_without_credentials_and_OnConnected_sees_the_authenticated_user()
    {
        var hooks = new Recorder();
        await using var server = await StreamServer.StartAsync(
            stream: hooks.Install,
            configure: b =>
            {
                b.Services.AddAuthentication(HeaderAuthenticationHandler.SchemeName)
                    .AddScheme<AuthenticationSchemeOptions, HeaderAuthenticationHandler>(HeaderAuthenticationHandler.SchemeName, null);
                b.Services.AddAuthorization();
            },
            conventions: e => e.RequireAuthorization());

        using (var anonymous = await server.Client.GetAsync(server.StreamUri(), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        Assert.Empty(hooks.Connected);
        Assert.Equal(0, server.Broadcaster.SubscriberCount);

        await using (var client = await SseClient.OpenAsync(server.Client, server.StreamUri(), r => r.Headers.Add(HeaderAuthenticationHandler.Header, "alice")))
        {
            Assert.Equal(HttpStatusCode.OK, client.Response.StatusCode);
            Assert.Equal("connected", (await client.ReadAsync()).EventType);
            var user = Assert.Single(hooks.Connected).HttpContext.User;
            Assert.True(user.Identity?.IsAuthenticated);
            Assert.Equal("alice", user.Identity?.Name);
        }

        // Read in the hook: an HttpContext is not to be used after its request ended.
        await hooks.NextDisconnectAsync();
        Assert.Equal(["alice"], hooks.DisconnectedUsers);
    }

    /// <summary>Keeps what the hooks were given; optionally rejects every stream.</summary>
    private sealed class Recorder(int? reject = null)
    {
        private readonly TaskCompletionSource _firstDisconnect = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<GraphEventStreamConnectedContext> Connected { get; } = new();

        public ConcurrentQueue<GraphEventStreamDisconnectedContext> Disconnected { get; } = new();

        public ConcurrentQueue<string?> DisconnectedUsers { get; } = new();

        public Task FirstDisconnect => _firstDisconnect.Task;

        public void Install(GraphEventStreamOptions options)
        {
            options.Events.OnConnected = context =>
            {
                Connected.Enqueue(context);
                if (reject is { } status)
                {
                    context.Reject(status);
                }

                return Task.CompletedTask;
            };
            options.Events.OnDisconnected = context =>
            {
                DisconnectedUsers.Enqueue(context.HttpContext.User.Identity?.Name);
                Disconnected.Enqueue(context);
                _firstDisconnect.TrySetResult();
                return Task.CompletedTask;
            };
        }

        public async Task<GraphEventStreamDisconnectedContext> NextDisconnectAsync()
        {
            await FirstDisconnect.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);
            Assert.True(Disconnected.TryPeek(out var context));
            return context;
        }
    }

    /// <summary>Authenticates a request whose <c>X-Test-User</c> header names the user.</summary>
    private sealed class HeaderAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "TestHeader";
        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(Header, out var name) || string.IsNullOrEmpty(name))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name.ToString())], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
