namespace Pml.GraphEvents.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Known_types() => Assert.True(GraphEventTypes.IsKnown("edge_created"));
}
