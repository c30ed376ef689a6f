using System.Buffers;
using System.ComponentModel;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Pml.GraphEvents;

/// <summary>
/// Writes a <see cref="GraphEventSubscription"/> as a Server-Sent Events stream to any
/// <see cref="PipeWriter"/> or <see cref="Stream"/>, so that any host can serve it: ASP.NET Core,
/// <c>HttpListener</c>, a raw socket. The host sends the response headers; this writes the body.
/// </summary>
/// <remarks>
/// The stream opens with <c>retry:</c> and the <c>connected</c> frame, flushed at once so a client
/// knows it is connected before any event happens. After that, every frame that is ready is
/// copied into the output and the batch is flushed once: a burst of events costs one write
/// system call, not one per event. Heartbeats come through the subscription like any event, so
/// this is the stream's only writer.
/// </remarks>
public static class GraphEventStreamWriter
{
    // Bounds one batch so that one flush never holds more than a predictable amount, and so the
    // latency stamps of a batch fit a small rented array.
    private const int MaxBatchFrames = 256;

    private static readonly GraphEventStreamWriterOptions DefaultOptions = new();

    /// <summary>
    /// Writes <paramref name="subscription"/> to <paramref name="output"/> until the subscription
    /// ends, <paramref name="cancellationToken"/> fires, a flush times out, the output closes or the
    /// stream reaches its <see cref="GraphEventStreamWriterOptions.MaxStreamDuration"/>.
    /// Then disposes the subscription, so a stream that stopped leaves the broadcast at once.
    /// Does not complete <paramref name="output"/>.
    /// </summary>
    /// <param name="subscription">A new subscription: its <c>connected</c> frame is written first.</param>
    /// <param name="output">The response body.</param>
    /// <param name="options">Retry interval, write timeout, batch size and lifetime; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Ends the stream, typically when the client disconnects.</param>
    /// <returns>Why and where the stream ended. Never throws for a client that went away.</returns>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static Task<GraphEventStreamResult> WriteToAsync(
        this GraphEventSubscription subscription,
        PipeWriter output,
        GraphEventStreamWriterOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(output);
        options = Validated(options, subscription);
        return WriteCoreAsync(subscription, output, options, cancellationToken);
    }

    /// <summary>
    /// Writes <paramref name="subscription"/> to <paramref name="output"/>, as
    /// <see cref="WriteToAsync(GraphEventSubscription, PipeWriter, GraphEventStreamWriterOptions?, CancellationToken)"/>
    /// does. Leaves <paramref name="output"/> open.
    /// </summary>
    /// <param name="subscription">A new subscription: its <c>connected</c> frame is written first.</param>
    /// <param name="output">The response body stream.</param>
    /// <param name="options">Retry interval, write timeout, batch size and lifetime; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Ends the stream, typically when the client disconnects.</param>
    /// <returns>Why and where the stream ended. Never throws for a client that went away.</returns>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static async Task<GraphEventStreamResult> WriteToAsync(
        this GraphEventSubscription subscription,
        Stream output,
        GraphEventStreamWriterOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(output);
        options = Validated(options, subscription);
        var writer = PipeWriter.Create(output, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
        var result = await WriteCoreAsync(subscription, writer, options, cancellationToken).ConfigureAwait(false);

        // Completing without an error would flush what is still buffered, and after a timeout or
        // a reset that flush could block or throw; everything that should reach the client has.
        await writer.CompleteAsync(result.EndReason is GraphEventStreamEndReason.SubscriptionEnded or GraphEventStreamEndReason.MaxDurationReached ? null : new OperationCanceledException()).ConfigureAwait(false);
        return result;
    }

    private static GraphEventStreamWriterOptions Validated(GraphEventStreamWriterOptions? options, GraphEventSubscription subscription)
    {
        options ??= DefaultOptions;
        var failures = options.Validate(optionPrefix: string.Empty);
        if (failures.Count > 0)
        {
            // As documented: the subscription is disposed whatever ends the call, so a caller's
            // mistake does not leave it in the broadcast until it lags.
            subscription.Dispose();
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        return options;
    }

    private static async Task<GraphEventStreamResult> WriteCoreAsync(
        GraphEventSubscription subscription,
        PipeWriter output,
        GraphEventStreamWriterOptions options,
        CancellationToken cancellationToken)
    {
        var metrics = subscription.Metrics;
        var clock = subscription.TimeProvider;
        var writeTimeout = options.WriteTimeout;
        var maxBatchBytes = options.MaxBatchBytes;

        // Frames dispatched before the stream started are replayed ones: their age says how old
        // the client's Last-Event-ID was, not how fast delivery is, so they are not measured.
        var streamStart = clock.GetTimestamp();
        var stamps = metrics.LatencyEnabled ? ArrayPool<long>.Shared.Rent(MaxBatchFrames) : null;

        // Armed around each flush only; its token also carries the caller's cancellation.
        var timeouts = options.TimeProvider ?? TimeProvider.System;
        using var flushTimeout = new FlushTimeout(timeouts, cancellationToken);
        var token = flushTimeout.Token;

        // Started before the first await, so that a test clock advanced after this call returns
        // finds the timer. It ends the subscription, which the loop below sees as an ordinary end.
        using var lifetime = new StreamLifetime(subscription, options.MaxStreamDuration, timeouts);

        GraphEventStreamEndReason reason;
        long framesWritten = 0;
        long bytesWritten = 0;
        try
        {
            long pendingBytes = SseFrameEncoder.WriteRetry(output, options.RetryInterval);
            var pendingFrames = 0;
            while (true)
            {
                CopyReady(subscription, output, stamps, maxBatchBytes, ref pendingBytes, ref pendingFrames);

                if (pendingBytes > 0)
                {
                    flushTimeout.Arm(writeTimeout);
                    var flushed = await output.FlushAsync(token).ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled)
                    {
                        // Still armed: a host that ended the output because the flush ran out of time ended it for that.
                        reason = flushTimeout.TimedOut ? GraphEventStreamEndReason.WriteTimedOut
                            : flushed.IsCompleted ? GraphEventStreamEndReason.OutputClosed : GraphEventStreamEndReason.Cancelled;
                        break;
                    }

                    token = flushTimeout.Disarm();

                    framesWritten += pendingFrames;
                    bytesWritten += pendingBytes;
                    if (stamps is not null)
                    {
                        RecordLatency(metrics, clock, stamps.AsSpan(0, pendingFrames), streamStart);
                    }

                    pendingBytes = 0;
                    pendingFrames = 0;
                }

                // Completes at once, without allocating, when more was ready than one batch held.
                if (!await subscription.WaitToReadAsync(token).ConfigureAwait(false))
                {
                    reason = lifetime.Ended ? GraphEventStreamEndReason.MaxDurationReached : GraphEventStreamEndReason.SubscriptionEnded;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The timeout is armed only around a flush, so a cancelled token that the caller did
            // not cancel means a flush ran out of time. One the caller did cancel may still be a
            // timeout: a host may abort the request because the flush was cancelled (Kestrel
            // does), so what cancelled first decides.
            reason = flushTimeout.TimedOut || !cancellationToken.IsCancellationRequested ? GraphEventStreamEndReason.WriteTimedOut : GraphEventStreamEndReason.Cancelled;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or Win32Exception)
        {
            // The connection was reset or the host tore the response down (HttpListener reports
            // it as a Win32Exception): the client is gone, which is an ordinary end of a stream,
            // unless the host tore it down because a flush ran out of time.
            reason = flushTimeout.TimedOut ? GraphEventStreamEndReason.WriteTimedOut : GraphEventStreamEndReason.OutputClosed;
        }
        finally
        {
            if (stamps is not null)
            {
                ArrayPool<long>.Shared.Return(stamps);
            }

            // Even when something unexpected escapes: a subscription nobody reads would sit in
            // the broadcast until it lagged.
            subscription.Dispose();
        }

        if (reason == GraphEventStreamEndReason.WriteTimedOut)
        {
            metrics.WriteTimedOut();
        }

        return new GraphEventStreamResult(reason, subscription.EndReason, framesWritten, bytesWritten);
    }


    /// <summary>
    /// Copies the frames that are ready into <paramref name="output"/>, up to a batch's budget of
    /// bytes and frames. The frames come out of the subscription's buffer a few dozen per lock
    /// (<see cref="GraphEventSubscription.TryReadMany"/>), not one per lock: the pump may hold that
    /// lock while it fills the buffer with a drain. And they go into one <see cref="PipeWriter.GetSpan"/>
    /// and one <see cref="PipeWriter.Advance"/> per buffer the output hands out, not per frame:
    /// each is a call through the host's writer (Kestrel takes a lock in both, and sizes a chunk),
    /// and a batch of small frames fills a buffer many frames at a time. A frame that does not fit
    /// the rest of a buffer is split across two, so every buffer is filled, as
    /// <see cref="BuffersExtensions.Write{T}(IBufferWriter{T}, ReadOnlySpan{T})"/> does.
    /// </summary>
    private static void CopyReady(GraphEventSubscription subscription, PipeWriter output, long[]? stamps, int maxBatchBytes, ref long pendingBytes, ref int pendingFrames)
    {
        var taken = default(FrameBuffer);
        Span<GraphEventFrame?> frames = taken;
        var buffer = Span<byte>.Empty;
        var used = 0;
        while (pendingBytes < maxBatchBytes && pendingFrames < MaxBatchFrames)
        {
            var count = subscription.TryReadMany(frames[..Math.Min(frames.Length, MaxBatchFrames - pendingFrames)], maxBatchBytes - pendingBytes);
            if (count == 0)
            {
                break;
            }

            for (var i = 0; i < count; i++)
            {
                var frame = frames[i]!;
                frames[i] = null;
                var bytes = frame.Utf8Bytes.Span;
                pendingBytes += bytes.Length;
                if (stamps is not null)
                {
                    stamps[pendingFrames] = frame.DispatchTimestamp;
                }

                pendingFrames++;
                while (true)
                {
                    var room = buffer.Length - used;
                    if (bytes.Length <= room)
                    {
                        bytes.CopyTo(buffer[used..]);
                        used += bytes.Length;
                        break;
                    }

                    if (room > 0)
                    {
                        bytes[..room].CopyTo(buffer[used..]);
                        bytes = bytes[room..];
                        used += room;
                    }

                    if (used > 0)
                    {
                        output.Advance(used);
                    }

                    // No size hint: the output's next buffer of its usual size (Kestrel's are pooled
                    // blocks), which the frames fill, split where they cross from one to the next.
                    buffer = output.GetSpan();
                    used = 0;
                }
            }
        }

        if (used > 0)
        {
            output.Advance(used);
        }
    }

    /// <summary>Frames taken from the subscription at once, on the stack: a writer holds no array between batches.</summary>
    [InlineArray(32)]
    private struct FrameBuffer
    {
        private GraphEventFrame? _frame;
    }

    private static void RecordLatency(GraphEventsMetrics metrics, TimeProvider clock, ReadOnlySpan<long> stamps, long streamStart)
    {
        var now = clock.GetTimestamp();
        foreach (var stamp in stamps)
        {
            // 0: a frame for this subscriber alone (connected, a loss notice), not a dispatched one.
            if (stamp != 0 && stamp >= streamStart)
            {
                metrics.RecordLatency(clock.GetElapsedTime(stamp, now));
            }
        }
    }
}
