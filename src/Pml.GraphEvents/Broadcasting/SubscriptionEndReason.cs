namespace Pml.GraphEvents;

/// <summary>Why a <see cref="GraphEventSubscription"/> stopped receiving frames; <see cref="None"/> while it is live.</summary>
public enum SubscriptionEndReason
{
    /// <summary>The subscription is still live.</summary>
    None = 0,

    /// <summary>Its owner disposed it.</summary>
    Disposed = 1,

    /// <summary>It read too slowly and its buffer filled (policy <see cref="SlowSubscriberPolicy.Disconnect"/>).</summary>
    Lagging = 2,

    /// <summary>The broadcaster was disposed.</summary>
    BroadcasterDisposed = 3,
}
