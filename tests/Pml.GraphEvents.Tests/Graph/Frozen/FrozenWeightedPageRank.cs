namespace Pml.GraphEvents.Tests.Graph.Frozen;

/// <summary>
/// A frozen copy of the engine's weighted PageRank as it was before issue 16's rewrite (commit
/// 369cadd), kept unchanged so that the rewrite can be checked to give the same scores bit for bit
/// and the same number of iterations. Do not optimise or fix it: it is the reference.
/// </summary>
/// <remarks>
/// <para>
/// Original summary: PageRank with edges weighted by confidence (the model graphology-metrics computes for the story's
/// engine), iterated until every score is within <see cref="Tolerance"/> of the exact one.
/// </para>
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
/// bound above is about, and warm-started it stays well inside the engine's time targets.
/// </para>
/// <para>
/// QuikGraph 2.5.0's <c>PageRankAlgorithm</c> does not fit: it ignores edge weights, drops the mass
/// of dangling nodes instead of spreading it, and its ranks sum to N rather than 1.
/// </para>
/// </remarks>
internal static class FrozenWeightedPageRank
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

        var outWeight = new double[n];
        foreach (var edge in edges)
        {
            outWeight[edge.From] += edge.Confidence;
        }

        var danglingCount = 0;
        for (var v = 0; v < n; v++)
        {
            if (outWeight[v] == 0)
            {
                danglingCount++;
            }
        }

        var dangling = new int[danglingCount];
        for (int v = 0, k = 0; v < n; v++)
        {
            if (outWeight[v] == 0)
            {
                dangling[k++] = v;
            }
        }

        // Per edge, its source and the damped share of the source's score it carries, computed once
        // for all iterations and laid out together so the inner loop reads one array sequentially.
        var from = new int[edges.Length];
        var to = new int[edges.Length];
        var share = new double[edges.Length];
        for (var e = 0; e < edges.Length; e++)
        {
            from[e] = edges[e].From;
            to[e] = edges[e].To;
            share[e] = Damping * edges[e].Confidence / outWeight[edges[e].From];
        }

        var rank = Start(n, start);
        var next = new double[n];
        while (iterations < MaxIterations)
        {
            iterations++;
            var danglingMass = 0.0;
            foreach (var v in dangling)
            {
                danglingMass += rank[v];
            }

            // Teleport plus the dangling nodes' score, spread uniformly, so the scores keep summing to 1.
            var baseline = ((1 - Damping) / n) + (Damping * danglingMass / n);
            Array.Fill(next, baseline);
            for (var e = 0; e < share.Length; e++)
            {
                next[to[e]] += rank[from[e]] * share[e];
            }

            var change = 0.0;
            for (var v = 0; v < n; v++)
            {
                change += Math.Abs(next[v] - rank[v]);
            }

            (rank, next) = (next, rank);
            if (change <= StopChange)
            {
                break;
            }
        }

        return rank;
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
