namespace Pml.GraphEvents.Tests.Graph.Frozen;

/// <summary>
/// A frozen copy of the engine's Louvain as it was before issue 16's rewrite (commit 369cadd),
/// kept unchanged so that the rewrite can be checked to give the same communities bit for bit.
/// Do not optimise or fix it: it is the reference, not the implementation.
/// </summary>
/// <remarks>
/// Original summary: Louvain community detection (Blondel et al. 2008) on the tool graph seen as undirected: the
/// weight between two tools is the sum of the confidences of the edges between them, in both
/// directions. Modularity resolution 1, multi-level (communities are aggregated into nodes and
/// the local moving phase repeats until nothing moves).
/// Deterministic for a given seed: the only randomness is the order in which nodes are visited,
/// drawn from <c>new Random(seed)</c>, whose sequence .NET keeps stable for seeded instances.
/// Everything is arrays indexed by node ordinal (compressed sparse rows per level) because this
/// runs on every execution; QuikGraph has no community detection and its graphs would only add
/// hashing to the inner loop.
/// </remarks>
internal static class FrozenLouvain
{
    private const int MaxPassesPerLevel = 100;

    // A move must beat staying put by more than rounding noise, or nodes could swap forever.
    private const double MinGain = 1e-12;

    /// <summary>The community of each node <c>0..n-1</c>, numbered 0.. by first appearance in node order.</summary>
    public static int[] Detect(int nodeCount, ReadOnlySpan<EdgeData> edges, int seed, out int communityCount)
    {
        var n = nodeCount;
        var membership = new int[n];
        for (var i = 0; i < n; i++)
        {
            membership[i] = i;
        }

        var level = Level.FromEdges(n, edges);
        if (level.TotalWeight > 0)
        {
            var random = new Random(seed);
            while (true)
            {
                var community = MoveNodes(level, random, out var moved);
                if (!moved)
                {
                    break;
                }

                var count = Renumber(community);
                for (var i = 0; i < n; i++)
                {
                    membership[i] = community[membership[i]];
                }

                if (count == level.NodeCount)
                {
                    break;
                }

                level = level.Aggregate(community, count);
            }
        }

        communityCount = Renumber(membership);
        return membership;
    }

    /// <summary>The local moving phase: each node joins the neighbouring community of best modularity gain, until a pass moves nothing.</summary>
    private static int[] MoveNodes(Level level, Random random, out bool movedAny)
    {
        var n = level.NodeCount;
        var community = new int[n];
        var total = new double[n];
        for (var i = 0; i < n; i++)
        {
            community[i] = i;
            total[i] = level.Degree[i];
        }

        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        random.Shuffle(order);

        // Weight from the current node to each neighbouring community, and which entries are set,
        // so resetting costs the node's degree rather than n.
        var weightTo = new double[n];
        var touched = new int[n];
        var twoM = level.TotalWeight;
        movedAny = false;
        for (var pass = 0; pass < MaxPassesPerLevel; pass++)
        {
            var movedThisPass = false;
            foreach (var node in order)
            {
                var current = community[node];
                var degree = level.Degree[node];
                var touchedCount = 0;
                for (var e = level.Start[node]; e < level.Start[node + 1]; e++)
                {
                    var c = community[level.Neighbor[e]];
                    if (weightTo[c] == 0)
                    {
                        touched[touchedCount++] = c;
                    }

                    weightTo[c] += level.Weight[e];
                }

                total[current] -= degree;

                // Gain of joining c, up to a factor common to all c: k_i,in(c) - resolution * tot(c) * k_i / 2m.
                var best = current;
                var bestGain = weightTo[current] - (total[current] * degree / twoM);
                for (var t = 0; t < touchedCount; t++)
                {
                    var c = touched[t];
                    var gain = weightTo[c] - (total[c] * degree / twoM);
                    if (gain > bestGain + MinGain)
                    {
                        best = c;
                        bestGain = gain;
                    }
                }

                total[best] += degree;
                if (best != current)
                {
                    community[node] = best;
                    movedThisPass = true;
                    movedAny = true;
                }

                for (var t = 0; t < touchedCount; t++)
                {
                    weightTo[touched[t]] = 0;
                }
            }

            if (!movedThisPass)
            {
                break;
            }
        }

        return community;
    }

    /// <summary>Renumbers labels to 0..count-1 by first appearance; returns count.</summary>
    private static int Renumber(int[] labels)
    {
        var map = new int[labels.Length];
        Array.Fill(map, -1);
        var count = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            ref var slot = ref map[labels[i]];
            if (slot < 0)
            {
                slot = count++;
            }

            labels[i] = slot;
        }

        return count;
    }

    /// <summary>One level of the hierarchy as compressed sparse rows; self-loops kept apart.</summary>
    private sealed class Level
    {
        public required int NodeCount { get; init; }

        public required int[] Start { get; init; }

        public required int[] Neighbor { get; init; }

        public required double[] Weight { get; init; }

        /// <summary>Weighted degree, self-loop included: the adjacency row sums.</summary>
        public required double[] Degree { get; init; }

        /// <summary>2m: the sum of all degrees.</summary>
        public required double TotalWeight { get; init; }

        public static Level FromEdges(int n, ReadOnlySpan<EdgeData> edges)
        {
            // Each directed edge u->v becomes the entries (u, v) and (v, u). When v->u exists too,
            // u's row holds v twice; the moving phase sums per community, so that is the same as one
            // entry of the summed weight, without a merge step.
            var start = new int[n + 1];
            foreach (var edge in edges)
            {
                start[edge.From + 1]++;
                start[edge.To + 1]++;
            }

            for (var i = 0; i < n; i++)
            {
                start[i + 1] += start[i];
            }

            var fill = new int[n];
            Array.Copy(start, fill, n);
            var neighbor = new int[start[n]];
            var weight = new double[start[n]];
            var degree = new double[n];
            var twoM = 0.0;
            foreach (var edge in edges)
            {
                neighbor[fill[edge.From]] = edge.To;
                weight[fill[edge.From]++] = edge.Confidence;
                neighbor[fill[edge.To]] = edge.From;
                weight[fill[edge.To]++] = edge.Confidence;
                degree[edge.From] += edge.Confidence;
                degree[edge.To] += edge.Confidence;
                twoM += 2 * edge.Confidence;
            }

            return new Level { NodeCount = n, Start = start, Neighbor = neighbor, Weight = weight, Degree = degree, TotalWeight = twoM };
        }

        /// <summary>The graph whose nodes are this level's communities.</summary>
        public Level Aggregate(int[] community, int count)
        {
            // Members of each community, as rows of a CSR, to visit them community by community.
            var memberStart = new int[count + 1];
            for (var i = 0; i < NodeCount; i++)
            {
                memberStart[community[i] + 1]++;
            }

            for (var c = 0; c < count; c++)
            {
                memberStart[c + 1] += memberStart[c];
            }

            var fill = new int[count];
            Array.Copy(memberStart, fill, count);
            var members = new int[NodeCount];
            for (var i = 0; i < NodeCount; i++)
            {
                members[fill[community[i]]++] = i;
            }

            var start = new int[count + 1];
            var neighbor = new List<int>(Neighbor.Length);
            var weight = new List<double>(Neighbor.Length);
            var degree = new double[count];
            var accumulated = new double[count];
            var touched = new int[count];
            for (var c = 0; c < count; c++)
            {
                var touchedCount = 0;
                for (var m = memberStart[c]; m < memberStart[c + 1]; m++)
                {
                    var node = members[m];
                    degree[c] += Degree[node];
                    for (var e = Start[node]; e < Start[node + 1]; e++)
                    {
                        var other = community[Neighbor[e]];
                        if (other == c)
                        {
                            // Internal weight becomes the new node's self-loop, which is only its degree.
                            continue;
                        }

                        if (accumulated[other] == 0)
                        {
                            touched[touchedCount++] = other;
                        }

                        accumulated[other] += Weight[e];
                    }
                }

                for (var t = 0; t < touchedCount; t++)
                {
                    neighbor.Add(touched[t]);
                    weight.Add(accumulated[touched[t]]);
                    accumulated[touched[t]] = 0;
                }

                start[c + 1] = neighbor.Count;
            }

            return new Level
            {
                NodeCount = count,
                Start = start,
                Neighbor = [.. neighbor],
                Weight = [.. weight],
                Degree = degree,
                TotalWeight = TotalWeight,
            };
        }
    }
}
