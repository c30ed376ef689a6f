using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Pml.GraphEvents.AspNetCore;

/// <summary>
/// The open streams of each remote address, for <see cref="GraphEventStreamOptions.MaxStreamsPerAddress"/>.
/// Only addresses with a stream open have an entry, so a flood of distinct addresses costs memory
/// only while their streams are open (and those are bounded by the subscriber limit and Kestrel's
/// connection limit).
/// </summary>
/// <remarks>
/// <para>
/// Concurrency: each address's count is the <em>value</em> of its dictionary entry, an
/// <see langword="int"/>, and every change is one compare-and-swap on it: <c>TryAdd(key, 1)</c>
/// creates it, <c>TryUpdate(key, n ± 1, n)</c> moves it, and the last stream's release removes it
/// with <c>TryRemove(key → 1)</c>, which removes the entry only while its value is still 1. There
/// is no window in which a count lives outside the dictionary. (The usual alternative, a mutable
/// counter object per address changed with <see cref="Interlocked"/>, has one: a release takes
/// the counter to 0 and removes it while an acquire that had just looked it up increments the
/// detached object, and that stream is never counted again.) A CAS on the whole value also makes
/// ABA harmless: "1, removed, added again as 1" is the same state. A failed CAS means another
/// stream of the same address moved first, so the loops are lock-free and end in one or two rounds.
/// No lock: every stream open and close passes here, and most addresses have one stream.
/// </para>
/// <para>
/// IPv6 is counted by /64, not by full address: a host is normally given a whole /64 (SLAAC,
/// privacy addresses), so it could open streams from any number of addresses in it and a
/// per-address count would bound nothing. A /64 is what one site gets, like one IPv4 address behind
/// a NAT, and shares its count in the same way. (Link-local peers all share <c>fe80::/64</c>;
/// serving streams over link-local addresses is not a case this aims at.)
/// </para>
/// </remarks>
internal sealed class StreamsPerAddress(int max)
{
    private readonly ConcurrentDictionary<AddressKey, int> _open = new();

    public int Max => max;

    /// <summary>Addresses with a stream open (tests: entries leave at zero).</summary>
    internal int AddressCount => _open.Count;

    /// <summary>
    /// Counts one more stream for <paramref name="address"/>, unless it has <see cref="Max"/>
    /// already. A request without an address (a test server, a Unix socket) is not counted:
    /// <paramref name="key"/> is then <see langword="null"/> and <see cref="Release"/> does nothing.
    /// </summary>
    public bool TryAcquire(IPAddress? address, out AddressKey? key)
    {
        key = address is null ? null : AddressKey.Of(address);
        if (key is not { } k)
        {
            return true;
        }

        while (true)
        {
            if (_open.TryGetValue(k, out var count))
            {
                if (count >= max)
                {
                    key = null;
                    return false;
                }

                if (_open.TryUpdate(k, count + 1, count))
                {
                    return true;
                }
            }
            else if (_open.TryAdd(k, 1))
            {
                return true;
            }
        }
    }

    /// <summary>Counts one stream less for the key <see cref="TryAcquire"/> gave; removes the entry at zero.</summary>
    public void Release(AddressKey? key)
    {
        if (key is not { } k)
        {
            return;
        }

        while (_open.TryGetValue(k, out var count))
        {
            if (count <= 1
                ? _open.TryRemove(new KeyValuePair<AddressKey, int>(k, count))
                : _open.TryUpdate(k, count - 1, count))
            {
                return;
            }
        }
    }

    /// <summary>The streams counted for <paramref name="address"/> now (tests).</summary>
    internal int CountOf(IPAddress address) => _open.TryGetValue(AddressKey.Of(address), out var count) ? count : 0;

    /// <summary>What streams are counted under: an IPv4 address, or the /64 prefix of an IPv6 one.</summary>
    internal readonly record struct AddressKey(ulong Bits, bool IsIPv6)
    {
        public static AddressKey Of(IPAddress address)
        {
            if (address.IsIPv4MappedToIPv6)
            {
                // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d: the same client as a.b.c.d.
                address = address.MapToIPv4();
            }

            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out var written);
            return address.AddressFamily == AddressFamily.InterNetworkV6 && written == 16
                ? new AddressKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), IsIPv6: true)
                : new AddressKey(BinaryPrimitives.ReadUInt32BigEndian(bytes), IsIPv6: false);
        }
    }
}
