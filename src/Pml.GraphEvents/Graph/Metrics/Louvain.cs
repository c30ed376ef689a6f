namespace Pml.GraphEvents;

/// <summary>
/// Louvain community detection (Blondel et al. 2008) on the tool graph seen as undirected: the
/// weight between two tools is the sum of the confidences of the edges between them, in both
/// directions. Modularity resolution 1, multi-level (communities are aggregated into nodes and
/// the local moving phase repeats until nothing moves).
/// </summary>
/// <remarks>
/// <para>
/// Deterministic for a given seed: the only randomness is the order in which nodes are visited,
/// drawn from <c>new Random(seed)</c>, whose sequence .NET keeps stable for seeded instances.
/// Everything is arrays indexed by node ordinal (compressed sparse rows per level) because this
/// runs on every execution; QuikGraph has no community detection and its graphs would only add
/// hashing to the inner loop.
/// </para>
/// <para>
/// Bit for bit the same result as the plain algorithm (replicas recompute it and must agree with
/// the learner whatever version each runs; tests/…/Graph/Frozen keeps the plain version and
/// MetricsBitIdentityTests compares them): every node is visited in the same order, every sum is
/// taken in the same order, and every total is updated by the same operations. What is faster is
/// only what provably changes nothing:
/// </para>
/// <list type="bullet">
/// <item>A node's weights to its neighbouring communities depend only on its neighbours'
/// communities, so they are kept from its last visit (in the order first seen, as the plain loop
/// finds them) until a neighbour moves, and its row is only read again then. In the later passes
/// most nodes have no neighbour that moved.</item>
/// <item>The gain of joining <c>c</c> is <c>k_i,in(c) − tot(c)·k_i / 2m</c>, never more than
/// <c>k_i,in(c)</c> when <c>tot(c)</c> and <c>k_i</c> are not negative (in floating point too:
/// subtracting a non-negative number rounds to at most the minuend). So a community whose
/// weight does not beat the best gain so far cannot be chosen and its division is skipped; and
/// when the largest weight to any other community does not beat staying, the node stays without
/// looking at them. Totals can round to a hair below zero once a community empties, so the number
/// of non-empty communities with a negative total is counted, and the shortcuts wait while it is
/// not zero.</item>
/// <item>No allocation but the result: the arrays are reused (<see cref="LouvainWorkspace"/>).</item>
/// <item>The same input as the last run is answered from it (<see cref="LouvainMemo"/>).</item>
/// </list>
/// </remarks>
internal static class Louvain
{
    private const int MaxPassesPerLevel = 100;

    // A move must beat staying put by more than rounding noise, or nodes could swap forever.
    private const double MinGain = 1e-12;

    /// <summary>The community of each node <c>0..n-1</c>, numbered 0.. by first appearance in node order.</summary>
    public static int[] Detect(int nodeCount, ReadOnlySpan<EdgeData> edges, int seed, out int communityCount)
    {
        if (LouvainMemo.TryGet(nodeCount, edges, seed, out communityCount) is { } known)
        {
            return known;
        }

        var n = nodeCount;
        var membership = new int[n];
        for (var i = 0; i < n; i++)
        {
            membership[i] = i;
        }

        var workspace = LouvainWorkspace.Rent(n, 2 * edges.Length);
        try
        {
            FromEdges(workspace, n, edges);
            if (workspace.Current.TotalWeight > 0)
            {
                var random = new Random(seed);
                while (true)
                {
                    var level = workspace.Current;
                    if (!MoveNodes(workspace, level, random))
                    {
                        break;
                    }

                    var community = workspace.Community.AsSpan(0, level.NodeCount);
                    var count = Renumber(community, workspace.Map);
                    for (var i = 0; i < n; i++)
                    {
                        membership[i] = community[membership[i]];
                    }

                    if (count == level.NodeCount)
                    {
                        break;
                    }

                    Aggregate(workspace, count);
                    workspace.Advance();
                }
            }

            communityCount = Renumber(membership, workspace.Map);
        }
        finally
        {
            LouvainWorkspace.Return(workspace);
        }

        LouvainMemo.Record(n, edges, seed, membership, communityCount);
        return membership;
    }

    /// <summary>
    /// The local moving phase: each node joins the neighbouring community of best modularity gain,
    /// until a pass moves nothing. Leaves each node's community in <see cref="LouvainWorkspace.Community"/>.
    /// </summary>
    /// <returns>Whether any node moved.</returns>
    private static bool MoveNodes(LouvainWorkspace workspace, LouvainLevel level, Random random)
    {
        var n = level.NodeCount;
        ReadOnlySpan<int> start = level.Start.AsSpan(0, n + 1);
        ReadOnlySpan<int> neighbor = level.Neighbor.AsSpan(0, level.EntryCount);
        ReadOnlySpan<double> weight = level.Weight.AsSpan(0, level.EntryCount);
        ReadOnlySpan<double> degrees = level.Degree.AsSpan(0, n);
        var community = workspace.Community.AsSpan(0, n);
        var total = workspace.Total.AsSpan(0, n);
        var size = workspace.Size.AsSpan(0, n);
        var order = workspace.Order.AsSpan(0, n);
        var weightTo = workspace.WeightTo.AsSpan(0, n);
        var dirty = workspace.Dirty.AsSpan(0, n);
        var cachedCount = workspace.CachedCount.AsSpan(0, n);
        var cachedFor = workspace.CachedFor.AsSpan(0, n);
        var cachedOwn = workspace.CachedOwn.AsSpan(0, n);
        var cachedMaxOther = workspace.CachedMaxOther.AsSpan(0, n);
        var cachedCommunity = workspace.CachedCommunity.AsSpan(0, level.EntryCount);
        var cachedWeight = workspace.CachedWeight.AsSpan(0, level.EntryCount);

        // Non-empty communities whose total rounded below zero: while there are any, the bound
        // gain <= weight does not hold for them, and that shortcut is off.
        var negativeTotals = 0;
        for (var i = 0; i < n; i++)
        {
            community[i] = i;
            total[i] = degrees[i];
            size[i] = 1;
            cachedCount[i] = start[i + 1] - start[i];
            negativeTotals += total[i] < 0 ? 1 : 0;
            order[i] = i;
        }

        random.Shuffle(order);
        weightTo.Clear();
        dirty.Fill(true);

        var twoM = level.TotalWeight;
        var movedAny = false;
        for (var pass = 0; pass < MaxPassesPerLevel; pass++)
        {
            var movedThisPass = false;
            foreach (var node in order)
            {
                var current = community[node];
                var degree = degrees[node];
                var rowStart = start[node];
                var rowEnd = start[node + 1];

                // The node leaves its community.
                var before = total[current];
                var left = before - degree;
                total[current] = left;
                size[current]--;
                negativeTotals += (size[current] > 0 && left < 0 ? 1 : 0) - (before < 0 ? 1 : 0);

                double own;
                double maxOther;
                if (dirty[node])
                {
                    // How mixed the row was last time (before the first visit, all distinct).
                    var listed = cachedCount[node];
                    var rowLength = rowEnd - rowStart;
                    cachedCount[node] = Recount(
                        neighbor[rowStart..rowEnd],
                        weight[rowStart..rowEnd],
                        community,
                        weightTo,
                        current,
                        cachedCommunity[rowStart..rowEnd],
                        cachedWeight[rowStart..rowEnd],
                        5 * listed > rowLength && 20 * listed < 19 * rowLength,
                        out own,
                        out maxOther);
                    cachedFor[node] = current;
                    cachedOwn[node] = own;
                    cachedMaxOther[node] = maxOther;
                    dirty[node] = false;
                }
                else if (cachedFor[node] != current)
                {
                    // The same neighbours' communities, but the node itself moved since they were summed up.
                    OwnAndMaxOther(cachedCommunity.Slice(rowStart, cachedCount[node]), cachedWeight.Slice(rowStart, cachedCount[node]), current, out own, out maxOther);
                    cachedFor[node] = current;
                    cachedOwn[node] = own;
                    cachedMaxOther[node] = maxOther;
                }
                else
                {
                    own = cachedOwn[node];
                    maxOther = cachedMaxOther[node];
                }

                // Gain of joining c, up to a factor common to all c: k_i,in(c) - resolution * tot(c) * k_i / 2m.
                var best = current;
                var bestGain = own - (left * degree / twoM);
                var boundHolds = negativeTotals == 0 && degree >= 0;
                if (!(boundHolds && maxOther <= bestGain + MinGain))
                {
                    var candidates = cachedCommunity.Slice(rowStart, cachedCount[node]);
                    var candidateWeights = cachedWeight.Slice(rowStart, cachedCount[node]);
                    for (var t = 0; t < candidates.Length; t++)
                    {
                        var c = candidates[t];
                        var w = candidateWeights[t];
                        var threshold = bestGain + MinGain;
                        if (w <= threshold && degree >= 0 && total[c] >= 0)
                        {
                            // Its gain is at most w: it cannot win, and the division is skipped.
                            continue;
                        }

                        var gain = w - (total[c] * degree / twoM);
                        if (gain > threshold)
                        {
                            best = c;
                            bestGain = gain;
                        }
                    }
                }

                // The node joins the best community (perhaps its own again).
                before = total[best];
                var joined = before + degree;
                total[best] = joined;
                var wasCounted = size[best] > 0 && before < 0;
                size[best]++;
                negativeTotals += (joined < 0 ? 1 : 0) - (wasCounted ? 1 : 0);
                if (best != current)
                {
                    community[node] = best;
                    movedThisPass = true;
                    movedAny = true;

                    // Its neighbours' lists no longer hold (nor its own, if it is its own neighbour).
                    foreach (var other in neighbor[rowStart..rowEnd])
                    {
                        dirty[other] = true;
                    }
                }
            }

            if (!movedThisPass)
            {
                break;
            }
        }

        return movedAny;
    }

    /// <summary>
    /// A node's weight to each neighbouring community, summed in row order, the communities listed
    /// in first-seen order, as the plain loop finds them; into <paramref name="communities"/> and
    /// <paramref name="weights"/> (the node's slots of the cache, as long as its row).
    /// </summary>
    /// <returns>How many communities are listed.</returns>
    /// <remarks>
    /// Its own method so that the JIT keeps its few spans in registers (inside the moving loop,
    /// with a dozen spans live, it spilled them all). The test for a community not seen yet in
    /// the row is as predictable as the mix of new and seen: when a node's neighbours fall into
    /// many communities and few alike (a sparse graph), mispredicting it was the largest cost of
    /// the whole phase, and <paramref name="branchFree"/> counts without a branch; when they fall
    /// into a few (a dense graph) or all differ (the first pass), the branch is nearly always
    /// right and cheaper than the extra store.
    /// </remarks>
    private static int Recount(
        ReadOnlySpan<int> neighbors,
        ReadOnlySpan<double> entryWeights,
        ReadOnlySpan<int> community,
        Span<double> weightTo,
        int current,
        Span<int> communities,
        Span<double> weights,
        bool branchFree,
        out double own,
        out double maxOther)
    {
        var count = 0;
        if (branchFree)
        {
            for (var e = 0; e < neighbors.Length; e++)
            {
                var c = community[neighbors[e]];
                ref var sum = ref weightTo[c];

                // Written every time, kept only when counted: count <= e, so this stays in the row.
                communities[count] = c;
                count += sum == 0 ? 1 : 0;
                sum += entryWeights[e];
            }
        }
        else
        {
            for (var e = 0; e < neighbors.Length; e++)
            {
                var c = community[neighbors[e]];
                ref var sum = ref weightTo[c];
                if (sum == 0)
                {
                    communities[count++] = c;
                }

                sum += entryWeights[e];
            }
        }

        own = weightTo[current];
        var max = double.NegativeInfinity;
        for (var t = 0; t < count; t++)
        {
            var c = communities[t];
            var w = weightTo[c];
            weights[t] = w;

            // NaN propagates through Max; a NaN bound only turns the shortcut off.
            max = Math.Max(max, c == current ? double.NegativeInfinity : w);
        }

        // Cleared after all are read: a community can be listed twice (a weight that leaves the
        // sum at zero lists it again, as the plain loop did).
        for (var t = 0; t < count; t++)
        {
            weightTo[communities[t]] = 0;
        }

        maxOther = max;
        return count;
    }

    /// <summary>The weight to <paramref name="current"/> (0 if not listed) and the largest weight to any other listed community.</summary>
    private static void OwnAndMaxOther(ReadOnlySpan<int> communities, ReadOnlySpan<double> weights, int current, out double own, out double maxOther)
    {
        own = 0;
        var max = double.NegativeInfinity;
        for (var t = 0; t < communities.Length; t++)
        {
            if (communities[t] == current)
            {
                own = weights[t];
            }
            else
            {
                max = Math.Max(max, weights[t]);
            }
        }

        maxOther = max;
    }

    /// <summary>Renumbers labels to 0..count-1 by first appearance; returns count.</summary>
    private static int Renumber(Span<int> labels, int[] map)
    {
        var slots = map.AsSpan(0, labels.Length);
        slots.Fill(-1);
        var count = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            ref var slot = ref slots[labels[i]];
            if (slot < 0)
            {
                slot = count++;
            }

            labels[i] = slot;
        }

        return count;
    }

    /// <summary>Level 0: the edges as rows; self-loops kept apart.</summary>
    private static void FromEdges(LouvainWorkspace workspace, int n, ReadOnlySpan<EdgeData> edges)
    {
        var level = workspace.Current;
        // Each directed edge u->v becomes the entries (u, v) and (v, u). When v->u exists too,
        // u's row holds v twice; the moving phase sums per community, so that is the same as one
        // entry of the summed weight, without a merge step.
        var start = level.Start.AsSpan(0, n + 1);
        start.Clear();
        foreach (var edge in edges)
        {
            start[edge.From + 1]++;
            start[edge.To + 1]++;
        }

        for (var i = 0; i < n; i++)
        {
            start[i + 1] += start[i];
        }

        var entries = 2 * edges.Length;
        var neighbor = level.Neighbor.AsSpan(0, entries);
        var weight = level.Weight.AsSpan(0, entries);
        var degree = level.Degree.AsSpan(0, n);
        var fill = workspace.Map.AsSpan(0, n);
        start[..n].CopyTo(fill);
        degree.Clear();
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

        level.NodeCount = n;
        level.EntryCount = entries;
        level.TotalWeight = twoM;
    }

    /// <summary>Builds, in <see cref="LouvainWorkspace.Next"/>, the graph whose nodes are the current level's communities.</summary>
    private static void Aggregate(LouvainWorkspace workspace, int count)
    {
        var level = workspace.Current;
        var nodeCount = level.NodeCount;
        ReadOnlySpan<int> community = workspace.Community.AsSpan(0, nodeCount);
        ReadOnlySpan<int> start = level.Start.AsSpan(0, nodeCount + 1);
        ReadOnlySpan<int> neighbor = level.Neighbor.AsSpan(0, level.EntryCount);
        ReadOnlySpan<double> weight = level.Weight.AsSpan(0, level.EntryCount);
        ReadOnlySpan<double> degree = level.Degree.AsSpan(0, nodeCount);

        // Members of each community, as rows of a CSR in node order, to visit them community by community.
        var memberStart = workspace.MemberStart.AsSpan(0, count + 1);
        memberStart.Clear();
        for (var i = 0; i < nodeCount; i++)
        {
            memberStart[community[i] + 1]++;
        }

        for (var c = 0; c < count; c++)
        {
            memberStart[c + 1] += memberStart[c];
        }

        var fill = workspace.Map.AsSpan(0, count);
        memberStart[..count].CopyTo(fill);
        var members = workspace.Members.AsSpan(0, nodeCount);
        for (var i = 0; i < nodeCount; i++)
        {
            members[fill[community[i]]++] = i;
        }

        var next = workspace.Next;
        var nextStart = next.Start.AsSpan(0, count + 1);
        var nextNeighbor = next.Neighbor.AsSpan();
        var nextWeight = next.Weight.AsSpan();
        var nextDegree = next.Degree.AsSpan(0, count);
        var accumulated = workspace.WeightTo.AsSpan(0, count);
        var touched = workspace.Touched.AsSpan(0, count);
        accumulated.Clear();
        nextStart[0] = 0;
        var entries = 0;
        for (var c = 0; c < count; c++)
        {
            var touchedCount = 0;
            var sum = 0.0;
            foreach (var node in members[memberStart[c]..memberStart[c + 1]])
            {
                sum += degree[node];
                for (var e = start[node]; e < start[node + 1]; e++)
                {
                    var other = community[neighbor[e]];
                    if (other == c)
                    {
                        // Internal weight becomes the new node's self-loop, which is only its degree.
                        continue;
                    }

                    if (accumulated[other] == 0)
                    {
                        touched[touchedCount++] = other;
                    }

                    accumulated[other] += weight[e];
                }
            }

            nextDegree[c] = sum;
            for (var t = 0; t < touchedCount; t++)
            {
                var between = accumulated[touched[t]];
                nextNeighbor[entries] = touched[t];
                nextWeight[entries++] = between;
                accumulated[touched[t]] = 0;
            }

            nextStart[c + 1] = entries;
        }

        next.NodeCount = count;
        next.EntryCount = entries;
        next.TotalWeight = level.TotalWeight;
    }
}
