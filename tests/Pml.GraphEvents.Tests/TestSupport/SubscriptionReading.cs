namespace Pml.GraphEvents.Tests.TestSupport;

/// <summary>Reads a subscription with a generous deadline instead of fixed sleeps.</summary>
internal static class SubscriptionReading
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Reads exactly <paramref name="count"/> frames, failing if they do not arrive in time.</summary>
    public static async Task<List<GraphEventFrame>> ReadAsync(this GraphEventSubscription subscription, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Deadline);
        var frames = new List<GraphEventFrame>(count);
        while (frames.Count < count)
        {
            if (!await subscription.WaitToReadAsync(timeout.Token))
            {
                Assert.Fail($"The subscription ended ({subscription.EndReason}) after {frames.Count} of {count} frames.");
            }

            while (frames.Count < count && subscription.TryRead(out var frame))
            {
                frames.Add(frame);
            }
        }

        return frames;
    }

    /// <summary>Reads until the subscription ends and returns everything it delivered.</summary>
    public static async Task<List<GraphEventFrame>> ReadToEndAsync(this GraphEventSubscription subscription)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Deadline);
        var frames = new List<GraphEventFrame>();
        await foreach (var frame in subscription.ReadAllAsync(timeout.Token))
        {
            frames.Add(frame);
        }

        return frames;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling briefly; fails after the deadline.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
