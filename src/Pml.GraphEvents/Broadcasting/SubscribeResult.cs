using System.Diagnostics.CodeAnalysis;

namespace Pml.GraphEvents;

/// <summary>
/// The outcome of <see cref="IGraphEventSubscriber.Subscribe"/>. Being refused at the subscriber
/// limit is an expected, ordinary outcome under load, so it is a result rather than an exception.
/// </summary>
public readonly struct SubscribeResult
{
    internal SubscribeResult(GraphEventSubscription? subscription, int maxSubscribers)
    {
        Subscription = subscription;
        MaxSubscribers = maxSubscribers;
    }

    /// <summary>The new subscription, or <see langword="null"/> when refused.</summary>
    public GraphEventSubscription? Subscription { get; }

    /// <summary>Whether a subscription was created.</summary>
    [MemberNotNullWhen(true, nameof(Subscription))]
    public bool IsAccepted => Subscription is not null;

    /// <summary>The broadcaster's subscriber limit (the <c>max</c> of a 503 answer).</summary>
    public int MaxSubscribers { get; }
}
