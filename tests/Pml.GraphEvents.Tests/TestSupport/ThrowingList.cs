using System.Collections;

namespace Pml.GraphEvents.Tests.TestSupport;

/// <summary>
/// A list that answers <see cref="Count"/> and its indexer but throws when it is enumerated: it
/// passes every publish-time check (which index) and fails in the serializer (which enumerates),
/// so it stands for anything unexpected that only encoding finds.
/// </summary>
internal sealed class ThrowingList<T>(params T[] items) : IReadOnlyList<T>
{
    public int Count => items.Length;

    public T this[int index] => items[index];

    public IEnumerator<T> GetEnumerator() => throw new InvalidOperationException("This list cannot be enumerated (a test of the pump's guard).");

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
