namespace Pml.GraphEvents.Testing;

/// <summary>
/// Condition waits with a generous deadline instead of fixed sleeps: a slow CI machine only
/// makes a test take longer, never fail, and a fast one does not wait for nothing.
/// Shared by the test projects (compiled into each from tests/Shared).
/// </summary>
internal static class Eventually
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static async Task HoldsAsync(Func<bool> condition, Func<string> what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? Deadline);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"Timed out waiting for: {what()}");
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    public static Task HoldsAsync(Func<bool> condition, string what, TimeSpan? deadline = null) =>
        HoldsAsync(condition, () => what, deadline);

    /// <summary>The same for a condition that must be awaited (an HTTP call, say).</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
