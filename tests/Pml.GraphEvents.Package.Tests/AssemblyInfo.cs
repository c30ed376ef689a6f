// One folder feed for every test class: packing all the projects takes about a minute.
[assembly: AssemblyFixture(typeof(Pml.GraphEvents.Package.Tests.PackageConsumerTests.Feed))]
