using System.Diagnostics;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// POST sent → <c>workflow_executed</c> frame read, for every measured execution at every reader:
/// the time each POST was sent (by its index; execution <c>eN</c> is in POST <c>(N - 1) / batch</c>)
/// and the samples, added by the readers' threads at once.
/// </summary>
internal sealed class EndToEndDeliveryLatency(int posts, int batch, int readers)
{
    private readonly long[] _sentAt = new long[posts];

    public Percentiles Samples { get; } = new((long)readers * posts * batch);

    public void Sent(int post, long timestamp) => Volatile.Write(ref _sentAt[post], timestamp);

    /// <summary>Execution number <paramref name="execution"/> (from 1) was read at <paramref name="receivedAt"/> by one reader.</summary>
    public void Received(long execution, long receivedAt)
    {
        var post = (execution - 1) / batch;
        if (execution >= 1 && post < _sentAt.Length && Volatile.Read(ref _sentAt[post]) is var sentAt and > 0)
        {
            Samples.Add(receivedAt - sentAt);
        }
    }

    public static double Milliseconds(long ticks) => ticks * 1_000.0 / Stopwatch.Frequency;
}
