// Every test here runs two or three server processes and a redis-server: run in parallel on the
// machine's two cores, one test's servers would starve another's, and a failover or presence
// deadline would measure the neighbours instead of the cluster.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
