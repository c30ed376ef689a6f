namespace Pml.GraphEvents;

/// <summary>
/// PageRank with edges weighted by confidence (the model graphology-metrics computes for the story's
/// engine), iterated until every score is within <see cref="Tolerance"/> of the exact one.
/// </summary>
/// <remarks>
/// <para>
/// The model: damping <c>d</c> = 0.85; an edge carries <c>confidence / weighted out-degree of its
/// source</c> of its source's score; the score of a dangling node (no out-edge) is spread uniformly
/// over all nodes; the teleport term is <c>(1 - d) / N</c>. So one step is <c>x' = G x</c> with
/// <c>G</c> column-stochastic, and the scores sum to 1.
/// </para>
/// <para>
/// Why the stop rule bounds the error: write <c>G = d S + (1 - d) u 1ᵀ</c> with <c>S</c>
/// column-stochastic (edges plus the dangling spread) and <c>u = 1/N</c>. For two vectors that
/// both sum to 1 the teleport term cancels, so <c>‖G x − G y‖₁ ≤ d ‖x − y‖₁</c>: a step shrinks the
/// distance to the exact scores <c>x*</c> by <c>d</c> at least. With <c>δ = ‖x' − x‖₁</c>, the change
/// of the last step, <c>‖x − x*‖₁ ≤ δ + d ‖x − x*‖₁</c>, so <c>‖x − x*‖₁ ≤ δ / (1 − d)</c> and the
/// returned <c>x'</c> is within <c>d δ / (1 − d)</c> of <c>x*</c> in L1, hence every single score
/// is. Stopping when <c>δ ≤ Tolerance (1 − d) / d</c> (≈ 1.8e-11) therefore guarantees an error of
/// at most <see cref="Tolerance"/> per score, whatever the graph. The story's rule
/// (<c>δ &lt; N × 1e-4</c>) bounds nothing useful: at 20,000 tools it stopped after one iteration.
/// </para>
/// <para>
/// Cost: from any start the change shrinks by <c>d</c> per step (<c>δₖ ≤ 2 dᵏ</c>), so the rule is
/// met after at most ≈ 157 steps; from the previous snapshot's scores (one execution moves them
/// little) it takes fewer, often far fewer. Rounding keeps δ near 1e-16 once converged, far below
/// the threshold. <see cref="MaxIterations"/> (200) is therefore never reached in practice; if it
/// were, the last iterate is returned, and its error is still at most <c>d δ / (1 − d)</c> of its
/// last change. Plain power (Jacobi) iteration is kept rather than Gauss–Seidel: it is the one the
/// bound above is about, and warm-started it stays well inside the engine's time targets. (Any
/// other order of the additions would also change the scores' last bits, which replicas must
/// reproduce: see MetricsBitIdentityTests.)
/// </para>
/// <para>
/// QuikGraph 2.5.0's <c>PageRankAlgorithm</c> does not fit: it ignores edge weights, drops the mass
/// of dangling nodes instead of spreading it, and its ranks sum to N rather than 1.
/// </para>
/// </remarks>
internal static class WeightedPageRank
{
    public const double Damping = 0.85;

    /// <summary>The largest error of any returned score against the exact PageRank.</summary>
    public const double Tolerance = 1e-10;

    /// <summary>Never reached in practice (see the remarks); the last iterate is returned if it is.</summary>
    public const int MaxIterations = 200;

    /// <summary>The stop rule: the L1 change of a step at which the error is at most <see cref="Tolerance"/>.</summary>
    public const double StopChange = Tolerance * (1 - Damping) / Damping;

    /// <summary>Scores of nodes <c>0..n-1</c>, summing to 1 (empty when n is 0).</summary>
    /// <param name="nodeCount">Nodes in the graph.</param>
    /// <param name="edges">The edges, no self-loops, no duplicates.</param>
    /// <param name="start">
    /// Where to start: usually the previous snapshot's scores. Node <c>i</c> starts at
    /// <c>start[i]</c> (nodes are only ever appended, so ordinals keep their meaning); nodes past
    /// its end start at 1/N; the whole is rescaled to sum 1. Empty, or not usable (a negative or
    /// non-finite value, nothing positive), means the uniform 1/N. Only the number of iterations
    /// depends on it, never the result's precision.
    /// </param>
    public static double[] Compute(int nodeCount, ReadOnlySpan<EdgeData> edges, ReadOnlySpan<double> start = default) =>
        Compute(nodeCount, edges, start, out _);

    /// <inheritdoc cref="Compute(int, ReadOnlySpan{EdgeData}, ReadOnlySpan{double})"/>
    /// <param name="nodeCount">Nodes in the graph.</param>
    /// <param name="edges">The edges, no self-loops, no duplicates.</param>
    /// <param name="start">Where to start (see the other overload).</param>
    /// <param name="iterations">Steps taken.</param>
    public static double[] Compute(int nodeCount, ReadOnlySpan<EdgeData> edges, ReadOnlySpan<double> start, out int iterations)
    {
        var n = nodeCount;
        iterations = 0;
        if (n == 0)
        {
            return [];
        }

        var workspace = PageRankWorkspace.Rent(n, edges.Length);
        try
        {
            var outWeight = workspace.OutWeight.AsSpan(0, n);
            outWeight.Clear();
            foreach (var edge in edges)
            {
                outWeight[edge.From] += edge.Confidence;
            }

            var danglingCount = 0;
            var danglingNodes = workspace.Dangling.AsSpan(0, n);
            for (var v = 0; v < n; v++)
            {
                if (outWeight[v] == 0)
                {
                    danglingNodes[danglingCount++] = v;
                }
            }

            ReadOnlySpan<int> dangling = danglingNodes[..danglingCount];

            // The edges by target (compressed sparse rows, each row in edge order), each with its
            // source and the damped share of the source's score it carries, computed once for all
            // iterations. A step then sums each score in a register, row by row, instead of adding
            // into scattered targets: the same additions in the same order (a target's sum starts
            // at the baseline and takes its edges in edge order either way), so the same bits.
            var inStart = workspace.InStart.AsSpan(0, n + 1);
            inStart.Clear();
            foreach (var edge in edges)
            {
                inStart[edge.To + 1]++;
            }

            for (var v = 0; v < n; v++)
            {
                inStart[v + 1] += inStart[v];
            }

            var fill = workspace.Fill.AsSpan(0, n);
            inStart[..n].CopyTo(fill);
            var inFrom = workspace.InFrom.AsSpan(0, edges.Length);
            var inShare = workspace.InShare.AsSpan(0, edges.Length);
            foreach (var edge in edges)
            {
                var k = fill[edge.To]++;
                inFrom[k] = edge.From;
                inShare[k] = Damping * edge.Confidence / outWeight[edge.From];
            }

            var result = Start(n, start);
            var rank = result.AsSpan();
            var next = workspace.Next.AsSpan(0, n);
            while (iterations < MaxIterations)
            {
                iterations++;
                var change = Step(rank, next, dangling, inStart, inFrom, inShare);
                var previous = rank;
                rank = next;
                next = previous;
                if (change <= StopChange)
                {
                    break;
                }
            }

            // The scores end in whichever buffer the last step wrote; the caller owns a fresh array.
            if (!rank.Overlaps(result))
            {
                rank.CopyTo(result);
            }

            return result;
        }
        finally
        {
            PageRankWorkspace.Return(workspace);
        }
    }

    /// <summary>One step <c>next = G rank</c>; returns the L1 change <c>‖next − rank‖₁</c>.</summary>
    private static double Step(ReadOnlySpan<double> rank, Span<double> next, ReadOnlySpan<int> dangling, ReadOnlySpan<int> inStart, ReadOnlySpan<int> inFrom, ReadOnlySpan<double> inShare)
    {
        var n = rank.Length;
        var danglingMass = 0.0;
        foreach (var d in dangling)
        {
            danglingMass += rank[d];
        }

        // Teleport plus the dangling nodes' score, spread uniformly, so the scores keep summing to 1.
        var baseline = ((1 - Damping) / n) + (Damping * danglingMass / n);
        var change = 0.0;
        var v = 0;
        for (; v + 1 < n; v += 2)
        {
            // Two rows at once: each score is still one chain of additions in its row's order,
            // but two independent chains keep the adder busy where one waits on each addition.
            var a = baseline;
            var b = baseline;
            var k = inStart[v];
            var j = inStart[v + 1];
            var endA = j;
            var endB = inStart[v + 2];
            var common = Math.Min(endA - k, endB - j);
            for (var t = 0; t < common; t++, k++, j++)
            {
                a += rank[inFrom[k]] * inShare[k];
                b += rank[inFrom[j]] * inShare[j];
            }

            for (; k < endA; k++)
            {
                a += rank[inFrom[k]] * inShare[k];
            }

            for (; j < endB; j++)
            {
                b += rank[inFrom[j]] * inShare[j];
            }

            next[v] = a;
            next[v + 1] = b;
            change += Math.Abs(a - rank[v]);
            change += Math.Abs(b - rank[v + 1]);
        }

        for (; v < n; v++)
        {
            var score = baseline;
            for (var k = inStart[v]; k < inStart[v + 1]; k++)
            {
                score += rank[inFrom[k]] * inShare[k];
            }

            next[v] = score;
            change += Math.Abs(score - rank[v]);
        }

        return change;
    }

    private static double[] Start(int n, ReadOnlySpan<double> start)
    {
        var rank = new double[n];
        var known = Math.Min(n, start.Length);
        var sum = 0.0;
        for (var v = 0; v < known; v++)
        {
            var score = start[v];
            if (!double.IsFinite(score) || score < 0)
            {
                known = 0;
                break;
            }

            rank[v] = score;
            sum += score;
        }

        for (var v = known; v < n; v++)
        {
            rank[v] = 1.0 / n;
            sum += 1.0 / n;
        }

        if (known == 0 || !(sum > 0))
        {
            Array.Fill(rank, 1.0 / n);
            return rank;
        }

        // Summing to 1 is what makes the teleport term cancel in the bound above.
        for (var v = 0; v < n; v++)
        {
            rank[v] /= sum;
        }

        return rank;
    }
}
