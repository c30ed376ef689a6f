namespace Pml.GraphEvents.AspNetCore.Tests;

public sealed class OriginPatternTests
{
    [Theory]
    [InlineData("http://localhost:*", "http://localhost:1", true)]
    [InlineData("http://localhost:*", "http://localhost", true)]
    [InlineData("http://localhost:3000", "http://localhost:3000", true)]
    [InlineData("http://localhost:3000", "http://localhost:3001", false)]
    [InlineData("http://localhost", "http://localhost:80", true)]
    [InlineData("http://localhost", "http://localhost:8080", false)]
    [InlineData("https://app.example", "https://APP.example", true)]
    [InlineData("https://app.example", "http://app.example", false)]
    [InlineData("https://app.example", "https://sub.app.example", false)]
    [InlineData("http://127.0.0.1:*", "http://127.0.0.1.evil.com", false)]
    [InlineData("http://localhost:*", "http://localhost:3000.evil.com", false)]
    [InlineData("http://localhost:*", "http://localhost:3000/", false)]
    [InlineData("http://localhost:*", "http://localhost:3000/path", false)]
    [InlineData("http://localhost:*", "http://user@localhost:3000", false)]
    [InlineData("http://localhost:*", "null", false)]
    [InlineData("http://localhost:*", "", false)]
    [InlineData("http://[::1]:*", "http://[::1]:3000", true)]
    [InlineData("*", "https://anything.example:1234", true)]
    [InlineData("*", "null", false)]
    public void Origins_are_matched_on_parsed_scheme_host_and_port(string pattern, string origin, bool allowed) =>
        Assert.Equal(allowed, new OriginAllowList([pattern]).IsAllowed(origin));

    [Theory]
    [InlineData("localhost:3000")]
    [InlineData("http://localhost:3000/path")]
    [InlineData("ftp://localhost")]
    [InlineData("http://localhost:3000:*")]
    [InlineData("http://*.example")]
    [InlineData("")]
    public void Malformed_patterns_are_refused(string pattern) =>
        Assert.False(OriginPattern.TryParse(pattern, out _, out _));
}
