// The load, churn and stalled-client tests each need the machine's two cores to themselves: run
// in parallel, one would starve another's readers and turn a behaviour test into a timing test.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
