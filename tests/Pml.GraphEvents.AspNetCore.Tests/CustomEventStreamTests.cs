using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Pml.GraphEvents.AspNetCore.Tests.TestSupport;

namespace Pml.GraphEvents.AspNetCore.Tests;

/// <summary>
/// Issue 13, item 1: a host's own event type streamed over Kestrel on 127.0.0.1 like the library's,
/// read with <see cref="System.Net.ServerSentEvents.SseParser"/>, with curl and with
/// <see cref="GraphEventStreamClient"/>, and filtered by <c>?types=</c>.
/// </summary>
public sealed class CustomEventStreamTests
{
    // Data that would be two SSE fields if it reached a frame unescaped.
    private const string Hostile = "line one\nevent: heartbeat\ndata: {}";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<TestHost> StartAsync() =>
        StreamServer.StartAsync(configure: b => b.Services.AddGraphEvents()
            .AddEventType(MyCustomEvent.Name, HostEventsJson.Default.MyCustomEvent)
            .AddEventType(OtherCustomEvent.Name, HostEventsJson.Default.OtherCustomEvent));

    /// <summary>Ids 1 to 5: the library's, the other host type and this one, interleaved.</summary>
    private static async Task PublishMixAsync(IGraphEventBroadcaster broadcaster)
    {
        await broadcaster.PublishAsync(SampleEvents.Edge(1), Ct);
        await broadcaster.PublishAsync(new OtherCustomEvent("dag:1", SampleEvents.Timestamp), Ct);
        await broadcaster.PublishAsync(new MyCustomEvent(Hostile, 3, SampleEvents.Timestamp), Ct);
        await broadcaster.PublishAsync(SampleEvents.Publishable()[^1], Ct);
        await broadcaster.PublishAsync(new MyCustomEvent("second", 5, SampleEvents.Timestamp), Ct);
    }

    [Fact]
    public async Task SseParser_reads_the_custom_type_alone_with_types_filter_and_every_type_without()
    {
        await using var server = await StartAsync();
        await using var filtered = await SseClient.OpenAsync(server.Client, server.StreamUri($"?types={MyCustomEvent.Name}"));
        await using var everything = await SseClient.OpenAsync(server.Client, server.StreamUri());
        Assert.Equal(HttpStatusCode.OK, filtered.Response.StatusCode);
        Assert.Equal(GraphEventTypes.Connected, (await filtered.ReadAsync()).EventType);
        Assert.Equal(GraphEventTypes.Connected, (await everything.ReadAsync()).EventType);

        await PublishMixAsync(server.Broadcaster);

        // In order, so a built-in or the other type delivered to the filtered stream would come
        // before id 5: only this type arrives.
        var mine = await filtered.ReadAsync(2);
        Assert.Equal([(MyCustomEvent.Name, 3L), (MyCustomEvent.Name, 5L)], mine.Select(i => (i.EventType, EventIds.Offset(i.EventId))));
        Assert.Equal(
            "{\"message\":\"line one\\nevent: heartbeat\\ndata: {}\",\"count\":3,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}",
            mine[0].Data);
        var registry = server.Broadcaster.CustomEventTypes;
        var typed = Assert.IsType<MyCustomEvent>(GraphEventJson.Deserialize(mine[0].EventType, mine[0].Data, registry));
        Assert.Equal(new MyCustomEvent(Hostile, 3, SampleEvents.Timestamp), typed);

        var all = await everything.ReadAsync(5);
        Assert.Equal(
            [GraphEventTypes.EdgeCreated, OtherCustomEvent.Name, MyCustomEvent.Name, GraphEventTypes.MetricsUpdated, MyCustomEvent.Name],
            all.Select(i => i.EventType));
        Assert.Equal([1L, 2, 3, 4, 5], all.Select(i => EventIds.Offset(i.EventId)));
        Assert.Single(all.Select(i => EventIds.Epoch(i.EventId)).Distinct());
    }

    [Fact]
    public async Task Curl_reads_the_custom_type_filtered_by_types_and_no_built_in_frame()
    {
        await using var server = await StartAsync();
        await using var curl = CurlStream.Open(server.StreamUri($"?types={MyCustomEvent.Name}"));

        await curl.ReadUntilAsync("event: connected\ndata: {\"client_id\":");
        await PublishMixAsync(server.Broadcaster);
        await curl.ReadUntilAsync("-5\nevent: mycustom_type\ndata: {\"message\":\"second\",\"count\":5,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n");

        var text = curl.Output;
        var epoch = EventIds.Epoch(server.Broadcaster.GetStatistics().LastEventId);
        Assert.StartsWith($"retry: 3000\nid: {epoch}-0\nevent: connected\n", text, StringComparison.Ordinal);
        Assert.Contains(
            $"\n\nid: {epoch}-3\nevent: mycustom_type\ndata: {{\"message\":\"line one\\nevent: heartbeat\\ndata: {{}}\",\"count\":3,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}}\n\nid: {epoch}-5\n",
            text,
            StringComparison.Ordinal);
        Assert.DoesNotContain("edge_created", text, StringComparison.Ordinal);
        Assert.DoesNotContain("metrics_updated", text, StringComparison.Ordinal);
        Assert.DoesNotContain("other_custom", text, StringComparison.Ordinal);
        Assert.Equal(3, text.Split("\nevent: ").Length - 1); // connected, id 3 and id 5: nothing else
    }

    [Fact]
    public async Task The_client_reads_registered_custom_types_typed_and_others_raw()
    {
        await using var server = await StartAsync();
        var options = new GraphEventStreamClientOptions { ReconnectDelay = TimeSpan.FromMilliseconds(50) };
        options.CustomEventTypes.Add(MyCustomEvent.Name, HostEventsJson.Default.MyCustomEvent);
        var client = new GraphEventStreamClient(server.Client, server.StreamUri(), options);

        var events = await ReadWithMixAsync(client, server.Broadcaster, 6);

        Assert.IsType<ConnectedEvent>(events[0]);
        Assert.IsType<EdgeCreatedEvent>(events[1]);
        var other = Assert.IsType<RawGraphEvent>(events[2]);
        Assert.Equal((OtherCustomEvent.Name, "{\"dag_id\":\"dag:1\",\"timestamp\":\"2025-12-01T10:30:00.123Z\"}", SampleEvents.Timestamp), (other.EventType, other.Data, other.Timestamp));
        Assert.Equal(new MyCustomEvent(Hostile, 3, SampleEvents.Timestamp), events[3]);
        Assert.IsType<MetricsUpdatedEvent>(events[4]);
        Assert.Equal(new MyCustomEvent("second", 5, SampleEvents.Timestamp), events[5]);
        Assert.Equal(5, EventIds.Offset(client.LastEventId));
    }

    [Fact]
    public async Task The_client_filters_on_a_registered_custom_type()
    {
        await using var server = await StartAsync();
        var options = new GraphEventStreamClientOptions { EventTypes = [MyCustomEvent.Name] };
        options.CustomEventTypes.Add(MyCustomEvent.Name, HostEventsJson.Default.MyCustomEvent);
        var client = new GraphEventStreamClient(server.Client, server.StreamUri(), options);

        var events = await ReadWithMixAsync(client, server.Broadcaster, 3);

        Assert.Equal([3, 5], events.Skip(1).Select(e => Assert.IsType<MyCustomEvent>(e).Count));

        // A name the client was not told of fails at once, rather than as a 400 on every reconnect.
        var unknown = new GraphEventStreamClientOptions { EventTypes = [OtherCustomEvent.Name] };
        var error = Assert.Throws<ArgumentException>(() => new GraphEventStreamClient(server.Client, server.StreamUri(), unknown));
        Assert.Contains("'other_custom'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unregistered_name_in_types_gets_400_listing_the_known_ones_custom_included()
    {
        await using var server = await StartAsync();

        using var response = await server.Client.GetAsync(server.StreamUri($"?types={MyCustomEvent.Name},not_registered"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["not_registered"], json.RootElement.GetProperty("unknown_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(
            [.. GraphEventTypes.All, MyCustomEvent.Name, OtherCustomEvent.Name],
            json.RootElement.GetProperty("known_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("Known types: connected,", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("events_lost, mycustom_type, other_custom.", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, server.Broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task A_types_list_of_long_registered_names_past_512_characters_is_accepted()
    {
        // Eight 64-character names: their list alone is 519 characters, past the library-only bound.
        var names = Enumerable.Range(0, 8).Select(i => $"{i}".PadLeft(64, 'n')).ToArray();
        Type[] types = [typeof(Long<int>), typeof(Long<long>), typeof(Long<short>), typeof(Long<byte>), typeof(Long<char>), typeof(Long<bool>), typeof(Long<float>), typeof(Long<double>)];
        await using var server = await StreamServer.StartAsync(events: o =>
        {
            var add = typeof(GraphEventTypeRegistry).GetMethod(nameof(GraphEventTypeRegistry.Add))!;
            for (var i = 0; i < names.Length; i++)
            {
                add.MakeGenericMethod(types[i]).Invoke(o.CustomEventTypes, [names[i], JsonSerializerOptions.Default.GetTypeInfo(types[i])]);
            }
        });
        var query = "?types=" + string.Join(",", names);
        Assert.True(query.Length > 512 + 7);

        await using var client = await SseClient.OpenAsync(server.Client, server.StreamUri(query));

        Assert.Equal(HttpStatusCode.OK, client.Response.StatusCode);
        Assert.Equal(GraphEventTypes.Connected, (await client.ReadAsync()).EventType);
        using var tooLong = await server.Client.GetAsync(server.StreamUri(query + "," + string.Join(",", names) + "," + string.Join(",", names)), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    /// <summary>Reads <paramref name="count"/> events with the client, publishing the mix once it is connected.</summary>
    private static async Task<List<GraphEvent>> ReadWithMixAsync(GraphEventStreamClient client, IGraphEventBroadcaster broadcaster, int count)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        reading.CancelAfter(SseClient.Deadline);
        var events = new List<GraphEvent>();
        await foreach (var e in client.ReadAllAsync(reading.Token))
        {
            events.Add(e);
            if (e is ConnectedEvent)
            {
                await PublishMixAsync(broadcaster);
            }

            if (events.Count == count)
            {
                break;
            }
        }

        return events;
    }

    /// <summary>Distinct closed types for many registrations (reflection-based contracts, which a test may use).</summary>
    private sealed record Long<T>(DateTimeOffset Timestamp) : GraphEvent("unused", Timestamp);
}
