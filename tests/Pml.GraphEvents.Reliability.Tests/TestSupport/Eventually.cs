namespace Pml.GraphEvents.Reliability.Tests.TestSupport;

/// <summary>Condition waits with a generous deadline, instead of fixed sleeps.</summary>
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
}
