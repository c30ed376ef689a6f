namespace Pml.GraphEvents.Server;

/// <summary>
/// The bytes all <c>POST /executions</c> bodies being read hold together, bounded by
/// <see cref="ServerOptions.MaxPendingBodyBytes"/>: without it, 500 clients that each send all
/// but the last byte of a 1 MB body hold 500 MB until they give up.
/// </summary>
internal sealed class PendingBodyBudget(Microsoft.Extensions.Options.IOptions<ServerOptions> options)
{
    private readonly long _limit = options.Value.MaxPendingBodyBytes;
    private long _held;

    /// <summary>The bytes held now (for tests and diagnostics).</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Takes <paramref name="bytes"/> more, or nothing and <see langword="false"/> when that would pass the limit.</summary>
    public bool TryTake(long bytes)
    {
        // Lock-free: a compare-and-swap loop, so concurrent bodies never take more than the limit
        // together, and a refused one takes nothing.
        while (true)
        {
            var held = Interlocked.Read(ref _held);
            if (held + bytes > _limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _held, held + bytes, held) == held)
            {
                return true;
            }
        }
    }

    /// <summary>Gives back what <see cref="TryTake"/> took.</summary>
    public void Return(long bytes) => Interlocked.Add(ref _held, -bytes);
}
