using System.Net.ServerSentEvents;
using System.Text;

namespace Pml.GraphEvents.Reliability.Tests.TestSupport;

/// <summary>One frame as a client received it.</summary>
internal sealed record ReceivedFrame(string EventType, string? Id, string Data);

/// <summary>
/// Checks every byte a client received: the body parses with <see cref="SseParser"/>, and its
/// lines are exactly the server's shape. SseParser alone is lenient (it ignores unknown fields and
/// accepts CR as a line end), so an injected <c>\r</c> or <c>event: x</c> line would slip past
/// it; the strict line check is what would catch a frame broken by a hostile value.
/// </summary>
internal static class SseFrameChecker
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Every complete frame of <paramref name="body"/> (a trailing partial frame of an aborted stream is ignored).</summary>
    public static List<ReceivedFrame> Check(ReadOnlySpan<byte> body)
    {
        var end = body.LastIndexOf("\n\n"u8);
        var complete = end < 0 ? [] : body[..(end + 2)];
        var text = StrictUtf8.GetString(complete);
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\0', text);

        var frames = new List<ReceivedFrame>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? id = null, type = null, data = null;
            var retry = false;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("retry: ", StringComparison.Ordinal) && frames.Count == 0 && !retry && line[7..].All(char.IsAsciiDigit))
                {
                    retry = true;
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal) && id is null && System.Text.RegularExpressions.Regex.IsMatch(line[4..], "^[0-9a-z]{10}-(0|[1-9][0-9]{0,18})$"))
                {
                    id = line[4..];
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal) && type is null && GraphEventTypes.IsKnown(line[7..]))
                {
                    type = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && data is null)
                {
                    data = line[6..];
                }
                else
                {
                    Assert.Fail($"A malformed line in a frame: '{Shorten(line)}' in '{Shorten(block)}'.");
                }
            }

            if (type is null && data is null && retry)
            {
                continue;
            }

            Assert.True(type is not null && data is not null, $"A frame without event or data: '{Shorten(block)}'.");
            using (var json = JsonDocument.Parse(data))
            {
                Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
            }

            frames.Add(new ReceivedFrame(type, id, data));
        }

        // The framework's parser must see exactly the same frames.
        var parsed = SseParser.Create(new MemoryStream(complete.ToArray())).Enumerate().ToList();
        Assert.Equal(frames.Count, parsed.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            Assert.Equal(frames[i].EventType, parsed[i].EventType);
            Assert.Equal(frames[i].Data, parsed[i].Data);
            if (frames[i].Id is not null)
            {
                Assert.Equal(frames[i].Id, parsed[i].EventId);
            }
        }

        return frames;
    }

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
