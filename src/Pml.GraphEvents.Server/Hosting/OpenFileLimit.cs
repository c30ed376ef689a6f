using System.Runtime.InteropServices;

namespace Pml.GraphEvents.Server;

/// <summary>
/// The process's open-file limit (<c>getrlimit(RLIMIT_NOFILE)</c>), from which the default
/// connection bound is derived: every connection holds a descriptor, and a process that runs out
/// of them cannot open its database, reach Redis or even accept the next connection cleanly.
/// </summary>
internal static partial class OpenFileLimit
{
    private const int FallbackConnections = 10_000;
    private const int MaxDerivedConnections = 100_000;

    /// <summary>The soft limit, or <see langword="null"/> when it cannot be read (Windows, no libc) or is unlimited.</summary>
    public static ulong? Read()
    {
        // RLIMIT_NOFILE is 7 on Linux and 8 on the BSDs and macOS.
        int resource;
        if (OperatingSystem.IsLinux())
        {
            resource = 7;
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            resource = 8;
        }
        else
        {
            return null;
        }

        try
        {
            // The runtime raises the soft limit to the hard one at start-up, so this is what the process really has.
            return GetRLimit(resource, out var limit) == 0 && limit.Current < long.MaxValue ? limit.Current : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// The default for <see cref="ServerOptions.MaxConnections"/>: the limit minus a quarter of it
    /// (at least 512 descriptors) left for everything that is not a client connection: the runtime
    /// alone keeps about 230 open (one per loaded assembly), then SQLite, Redis, log files.
    /// </summary>
    public static int DefaultMaxConnections(ulong? limit)
    {
        if (limit is not { } files)
        {
            return FallbackConnections;
        }

        var headroom = Math.Max(512, files / 4);
        return files <= headroom + 16 ? 16 : (int)Math.Min(files - headroom, MaxDerivedConnections);
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
