namespace Pml.GraphEvents.Benchmarks;

/// <summary>
/// The end-to-end run is not a valid measurement (a POST refused, an event lost or out of order, a
/// reader cut off, the server gone): the probe stops with a non-zero exit code and this message.
/// </summary>
internal sealed class EndToEndException : Exception
{
    public EndToEndException()
    {
    }

    public EndToEndException(string message)
        : base(message)
    {
    }

    public EndToEndException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
