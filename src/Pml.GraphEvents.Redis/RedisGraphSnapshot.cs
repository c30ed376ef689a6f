using System.Collections.Immutable;
using System.Text.Json;

namespace Pml.GraphEvents.Redis;

/// <summary>Converts a replica's state to and from the snapshot JSON the learner keeps in Redis.</summary>
internal static class RedisGraphSnapshot
{
    public static byte[] Encode(SharedGraphState state, string epoch)
    {
        var nodes = new SnapshotNode[state.Nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = state.Nodes[i];
            nodes[i] = new SnapshotNode(node.Id, node.Name, node.ServerId, node.Metadata is null ? null : new Dictionary<string, string>(node.Metadata, StringComparer.Ordinal));
        }

        var edges = new SnapshotEdge[state.Edges.Length];
        for (var i = 0; i < edges.Length; i++)
        {
            var edge = state.Edges[i];
            edges[i] = new SnapshotEdge(edge.From, edge.To, edge.Confidence, edge.ObservedCount);
        }

        var m = state.Metrics.Metrics;
        var entry = new SnapshotEntry(
            epoch,
            RedisStreamId.Format(state.Offset),
            nodes,
            edges,
            state.Metrics.PageRank,
            state.Metrics.Community,
            new SnapshotMetrics(m.NodeCount, m.EdgeCount, m.Density, [.. m.PageRankTop10], m.CommunitiesCount));

        // Doubles are written in their shortest round-trip form: a replica that loads them holds the
        // learner's values to the last bit, and so folds the next units to the same results.
        return JsonSerializer.SerializeToUtf8Bytes(entry, RedisClusterJson.Default.SnapshotEntry);
    }

    /// <summary>Reads a snapshot; <see cref="InvalidDataException"/> when it is not one.</summary>
    public static (SharedGraphState State, string Epoch) Decode(ReadOnlySpan<byte> json)
    {
        SnapshotEntry? entry;
        try
        {
            entry = JsonSerializer.Deserialize(json, RedisClusterJson.Default.SnapshotEntry);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The graph snapshot is not valid JSON: {ex.Message}", ex);
        }

        if (entry?.Nodes is null || entry.Edges is null || entry.PageRank is null || entry.Communities is null || entry.Metrics?.PageRankTop10 is null
            || entry.Epoch is null || !GraphEventId.IsEpoch(entry.Epoch) || !RedisStreamId.TryEncode(entry.Position, out var offset))
        {
            throw new InvalidDataException("The graph snapshot lacks a field, or its epoch or position is malformed.");
        }

        var nodes = ImmutableArray.CreateBuilder<ToolNode>(entry.Nodes.Length);
        foreach (var node in entry.Nodes)
        {
            if (string.IsNullOrEmpty(node?.Id))
            {
                throw new InvalidDataException("The graph snapshot has a tool without an id.");
            }

            nodes.Add(new ToolNode(node.Id, node.Name, node.ServerId, node.Metadata));
        }

        var edges = new EdgeData[entry.Edges.Length];
        for (var i = 0; i < edges.Length; i++)
        {
            var edge = entry.Edges[i] ?? throw new InvalidDataException("The graph snapshot has a null edge.");
            edges[i] = new EdgeData(edge.From, edge.To, edge.Confidence, edge.ObservedCount);
        }

        var m = entry.Metrics;
        var metrics = new GraphMetricsResult
        {
            Metrics = new ToolGraphMetrics(m.NodeCount, m.EdgeCount, m.Density, m.PageRankTop10, m.CommunitiesCount),
            PageRank = entry.PageRank,
            Community = entry.Communities,
        };
        return (new SharedGraphState(nodes.DrainToImmutable(), edges, metrics, offset), entry.Epoch);
    }
}
