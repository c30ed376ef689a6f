using System.Globalization;

namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// Another process's CPU time, read from /proc (Linux): per live thread in nanoseconds
/// (<c>/proc/PID/task/TID/schedstat</c>) and for the whole process in clock ticks
/// (<c>/proc/PID/stat</c>), as benchmarks/scripts/server-cpu.py reads them.
/// </summary>
internal static class EndToEndProcessTimes
{
    /// <summary>The runtime's background tiered-compilation thread, as /proc names it (15 characters at most).</summary>
    public const string JitThreadName = ".NET Tiered Com";

    // USER_HZ: /proc reports utime and stime in units of 1/100 s on every Linux ABI, whatever the kernel's HZ.
    private const double TicksPerSecond = 100;

    /// <summary>Nanoseconds on a CPU of each live thread: fine enough for runs of a fraction of a second, where 10 ms ticks are a few percent.</summary>
    public static Dictionary<int, long> ThreadNanoseconds(int pid)
    {
        var times = new Dictionary<int, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid)
                && TryReadSchedstat(task, out var nanoseconds))
            {
                times[tid] = nanoseconds;
            }
        }

        return times;
    }

    /// <summary>The sum of <see cref="ThreadNanoseconds"/>.</summary>
    public static long TotalThreadNanoseconds(int pid) => ThreadNanoseconds(pid).Values.Sum();

    /// <summary>User + system CPU seconds of the whole process, threads that ended included (10 ms ticks).</summary>
    public static double ProcessSeconds(int pid)
    {
        var (user, system) = UserSystemSeconds(pid);
        return user + system;
    }

    /// <summary>User and system CPU seconds of the whole process (10 ms ticks).</summary>
    public static (double User, double System) UserSystemSeconds(int pid)
    {
        // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) / TicksPerSecond, long.Parse(fields[12], CultureInfo.InvariantCulture) / TicksPerSecond);
    }

    /// <summary>CPU nanoseconds of the live threads called <paramref name="name"/>.</summary>
    public static long NamedThreadNanoseconds(int pid, string name)
    {
        long total = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == name && TryReadSchedstat(task, out var nanoseconds))
                {
                    total += nanoseconds;
                }
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }

        return total;
    }

    /// <summary>
    /// Waits until the process has stopped using CPU (less than 3 ms over 0.3 s; at most
    /// <paramref name="limit"/>): work still in flight when a run ends (a drain, a flush, a WAL
    /// checkpoint) is counted in the run, and work of the warm-up is not.
    /// </summary>
    public static async Task SettleAsync(int pid, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var last = TotalThreadNanoseconds(pid);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(300);
            var now = TotalThreadNanoseconds(pid);
            if (now - last < 3_000_000)
            {
                return;
            }

            last = now;
        }
    }

    private static bool TryReadSchedstat(string task, out long nanoseconds)
    {
        nanoseconds = 0;
        try
        {
            var text = File.ReadAllText(Path.Combine(task, "schedstat"));
            var end = text.IndexOf(' ', StringComparison.Ordinal);
            return long.TryParse(end < 0 ? text : text[..end], NumberStyles.None, CultureInfo.InvariantCulture, out nanoseconds);
        }
        catch (IOException)
        {
            return false; // the thread ended
        }
    }
}
