namespace Pml.GraphEvents.Server.Tests;

/// <summary>
/// <c>pml-graph-events --help</c>, <c>--version</c> and a mistyped sub-command answer and exit;
/// only the server's own arguments start a server.
/// </summary>
public sealed class ServerCommandLineTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    [InlineData("--urls", "http://127.0.0.1:5080", "--help")]
    public void Help_prints_the_usage_with_every_sub_command_and_exits_0(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(0, ServerCommandLine.TryRun(args, output, error));
        foreach (var command in new[] { "pml-graph-events [--urls", "pml-graph-events tail", "pml-graph-events next", "pml-graph-events paths" })
        {
            Assert.Contains(command, output.ToString(), StringComparison.Ordinal);
        }

        Assert.Empty(error.ToString());
    }

    [Fact]
    public void Version_prints_the_package_version()
    {
        using var output = new StringWriter();
        Assert.Equal(0, ServerCommandLine.TryRun(["--version"], output, TextWriter.Null));
        Assert.StartsWith("pml-graph-events 0.", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tial", "http://127.0.0.1:5080/events/stream")]
    [InlineData("serve")]
    public void A_word_that_is_no_sub_command_is_an_error_not_a_server(params string[] args)
    {
        using var error = new StringWriter();
        Assert.Equal(2, ServerCommandLine.TryRun(args, TextWriter.Null, error));
        Assert.Contains($"unknown command '{args[0]}'", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData]
    [InlineData("--urls", "http://127.0.0.1:5080")]
    [InlineData("--simulate", "false", "--db", "graph.db")]
    [InlineData("urls=http://127.0.0.1:5080")]
    [InlineData("/urls", "http://127.0.0.1:5080")]
    public void The_servers_own_arguments_start_the_server(params string[] args) =>
        Assert.Null(ServerCommandLine.TryRun(args, TextWriter.Null, TextWriter.Null));
}
