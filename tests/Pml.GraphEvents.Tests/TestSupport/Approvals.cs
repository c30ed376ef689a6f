using System.Runtime.CompilerServices;

namespace Pml.GraphEvents.Tests.TestSupport;

/// <summary>
/// Approval checks against files checked in under <c>tests/Pml.GraphEvents.Tests/Approved</c>.
/// A mismatch writes the actual text beside the approved file as <c>*.received.txt</c>; review it
/// and rename it over the approved file to accept a deliberate change.
/// </summary>
internal static class Approvals
{
    public static void Verify(string relativePath, string actual, [CallerFilePath] string callerFile = "")
    {
        var approvedPath = Path.Combine(FindTestProjectDirectory(callerFile), "Approved", relativePath);
        var receivedPath = Path.ChangeExtension(approvedPath, ".received" + Path.GetExtension(approvedPath));
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath) : null;
        if (approved == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(receivedPath)!);
        File.WriteAllText(receivedPath, actual);
        Assert.Fail(approved is null
            ? $"No approved file at {approvedPath}. The actual text was written to {receivedPath}; review it and rename it to approve."
            : $"The text differs from {approvedPath}. The actual text was written to {receivedPath}.\nApproved:\n{approved}\nActual:\n{actual}");
    }

    private static string FindTestProjectDirectory(string callerFile)
    {
        // Source paths are embedded at compile time; fall back to the output folder's copy when
        // the tests run somewhere the sources are not.
        var directory = Path.GetDirectoryName(callerFile);
        while (directory is not null && !File.Exists(Path.Combine(directory, "Pml.GraphEvents.Tests.csproj")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? AppContext.BaseDirectory;
    }
}
