using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Sse;

public sealed class GraphEventStreamWriterTests
{
    [Fact]
    public async Task The_stream_opens_with_retry_and_the_connected_frame_flushed_before_any_event()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        var pipe = new Pipe();
        var writing = subscription.WriteToAsync(pipe.Writer, cancellationToken: TestContext.Current.CancellationToken);

        var text = await ReadUntilAsync(pipe.Reader, "\n\n");
        Assert.StartsWith("retry: 3000\nid: " + broadcaster.IdAt(0) + "\nevent: connected\ndata: {\"client_id\":\"" + subscription.ClientId + "\",\"connected_clients\":1,", text, StringComparison.Ordinal);
        Assert.False(writing.IsCompleted);

        subscription.Dispose();
        var result = await writing;
        Assert.Equal(GraphEventStreamEndReason.SubscriptionEnded, result.EndReason);
        Assert.Equal(SubscriptionEndReason.Disposed, result.SubscriptionEndReason);
        Assert.Equal(1, result.FramesWritten);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), result.BytesWritten);
    }

    [Fact]
    public async Task Frames_ready_together_are_written_as_one_batch_with_one_flush()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        for (var i = 0; i < 10; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().FramesDelivered == 10, "10 frames buffered");

        // Ended but not yet read: the writer still writes everything it holds, then ends.
        subscription.Dispose();
        var output = new CountingWriter();
        var result = await subscription.WriteToAsync(output, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, output.Flushes);
        Assert.Equal(11, result.FramesWritten);
        var text = Encoding.UTF8.GetString(output.Written.WrittenSpan);
        Assert.StartsWith("retry: 3000\nid: " + broadcaster.IdAt(0) + "\nevent: connected\n", text, StringComparison.Ordinal);
        Assert.EndsWith("id: " + broadcaster.IdAt(10) + "\nevent: edge_created\ndata: {\"from_tool_id\":\"tool:9\",\"to_tool_id\":\"tool:10\",\"confidence_score\":0.5,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_stops_at_the_byte_budget_and_the_rest_follows_in_the_next()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        for (var i = 0; i < 100; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().FramesDelivered == 100, "100 frames buffered");
        subscription.Dispose();
        var output = new CountingWriter();
        var result = await subscription.WriteToAsync(output, new GraphEventStreamWriterOptions { MaxBatchBytes = 1024 }, TestContext.Current.CancellationToken);

        Assert.Equal(101, result.FramesWritten);
        Assert.InRange(output.Flushes, 2, 100);
        Assert.Equal(output.Written.WrittenCount, result.BytesWritten);
    }

    [Fact]
    public async Task Each_batch_holds_whole_frames_up_to_the_first_that_reaches_the_byte_budget()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        for (var i = 0; i < 100; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().FramesDelivered == 100, "100 frames buffered");
        subscription.Dispose();
        var output = new FlushRecordingWriter();
        var result = await subscription.WriteToAsync(output, new GraphEventStreamWriterOptions { MaxBatchBytes = 1024 }, TestContext.Current.CancellationToken);

        // Every batch (the first with retry: and connected) stops at the first frame that reaches
        // the budget, so it crosses it by less than one frame; the last holds what is left.
        var flushes = output.Flushes;
        var frameBytes = Encoding.UTF8.GetByteCount("id: " + broadcaster.IdAt(10) + "\nevent: edge_created\ndata: {\"from_tool_id\":\"tool:9\",\"to_tool_id\":\"tool:10\",\"confidence_score\":0.5,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n");
        Assert.StartsWith("retry: 3000\n", flushes[0], StringComparison.Ordinal);
        Assert.All(flushes.SkipLast(1), batch => Assert.InRange(Encoding.UTF8.GetByteCount(batch), 1024, 1024 + frameBytes));
        Assert.Equal(101, result.FramesWritten);
        Assert.Equal(100, flushes.Sum(batch => batch.Split("event: edge_created").Length - 1));
    }

    [Fact]
    public async Task Events_committed_together_reach_a_waiting_writer_in_one_flush()
    {
        // No heartbeat may come between: it would be a flush of its own.
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions { HeartbeatInterval = TimeSpan.FromHours(1) });
        var subscription = broadcaster.Subscribe();
        var output = new FlushRecordingWriter();
        var writing = subscription.WriteToAsync(output, cancellationToken: TestContext.Current.CancellationToken);
        await SubscriptionReading.EventuallyAsync(() => output.Flushes.Count == 1, "the connected frame flushed");

        // One commit (a POST's events) is one batch for every writer: one write per client.
        var events = Enumerable.Range(0, 30).Select(i => (GraphEvent)SampleEvents.Edge(i)).ToList();
        await ((Broadcaster)broadcaster).CommitAsync(events, null, TestContext.Current.CancellationToken);
        await SubscriptionReading.EventuallyAsync(() => output.Flushes.Count == 2, "the block flushed");
        subscription.Dispose();
        var result = await writing;

        Assert.Equal(2, output.Flushes.Count);
        Assert.Equal(30, output.Flushes[1].Split("event: edge_created").Length - 1);
        Assert.Equal(31, result.FramesWritten);
    }

    [Fact]
    public async Task Under_drop_oldest_the_writer_writes_the_loss_notice_before_the_frames_after_the_gap()
    {
        await using var broadcaster = GraphEventBroadcaster.Create(new GraphEventsOptions
        {
            SubscriberBufferCapacity = 4,
            SlowSubscriberPolicy = SlowSubscriberPolicy.DropOldest,
        });
        var subscription = broadcaster.Subscribe();
        for (var i = 0; i < 10; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().FramesDelivered == 10, "10 frames offered");
        subscription.Dispose();
        var output = new FlushRecordingWriter();
        var result = await subscription.WriteToAsync(output, cancellationToken: TestContext.Current.CancellationToken);

        var text = string.Concat(output.Flushes);
        var connected = text.IndexOf("event: connected\n", StringComparison.Ordinal);
        var lost = text.IndexOf("event: events_lost\ndata: {\"reason\":\"buffer_overflow\",\"lost_count\":6,", StringComparison.Ordinal);
        var kept = text.IndexOf("id: " + broadcaster.IdAt(7) + "\n", StringComparison.Ordinal);
        Assert.True(connected >= 0 && connected < lost && lost < kept, text);
        Assert.DoesNotContain("id: " + broadcaster.IdAt(6) + "\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\"to_tool_id\":\"tool:10\",\"confidence_score\":0.5,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n", text, StringComparison.Ordinal);
        Assert.Equal(1 + 1 + 4, result.FramesWritten);
    }

    [Fact]
    public async Task The_token_ends_the_stream_and_the_subscription_at_once()
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var pipe = new Pipe();
        var writing = subscription.WriteToAsync(pipe.Writer, cancellationToken: cts.Token);
        await ReadUntilAsync(pipe.Reader, "\n\n");

        await cts.CancelAsync();
        var result = await writing;

        Assert.Equal(GraphEventStreamEndReason.Cancelled, result.EndReason);
        Assert.Equal(SubscriptionEndReason.Disposed, result.SubscriptionEndReason);
        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task A_flush_that_never_completes_is_abandoned_after_the_write_timeout()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var broadcaster = GraphEventBroadcaster.Create(timeProvider: time);
        var subscription = broadcaster.Subscribe();

        // A client that never reads: once the pipe holds 1 KB, every flush waits for a reader.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var options = new GraphEventStreamWriterOptions { WriteTimeout = TimeSpan.FromSeconds(5), TimeProvider = time };
        var writing = subscription.WriteToAsync(pipe.Writer, options, TestContext.Current.CancellationToken);
        for (var i = 0; i < 50; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => pipe.Writer.UnflushedBytes == 0 && time.GetUtcNow() >= SampleEvents.Timestamp && !writing.IsCompleted && broadcaster.GetStatistics().FramesDelivered == 50, "a flush is pending");
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(writing.IsCompleted);
        for (var i = 0; i < 100 && !writing.IsCompleted; i++)
        {
            // The timeout is armed when the flush starts, which may be after the first advance.
            time.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(writing, Task.Delay(10, TestContext.Current.CancellationToken));
        }

        var result = await writing;
        Assert.Equal(GraphEventStreamEndReason.WriteTimedOut, result.EndReason);
        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task At_its_lifetime_the_stream_writes_what_it_holds_and_ends_as_MaxDurationReached()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        var output = new CountingWriter();
        var options = new GraphEventStreamWriterOptions { MaxStreamDuration = TimeSpan.FromSeconds(10), TimeProvider = time };
        var writing = subscription.WriteToAsync(output, options, TestContext.Current.CancellationToken);

        // Below the shortest lifetime the jitter draws (nine tenths): the stream goes on.
        time.Advance(TimeSpan.FromSeconds(9) - TimeSpan.FromTicks(1));
        for (var i = 0; i < 3; i++)
        {
            await broadcaster.PublishAsync(SampleEvents.Edge(i), TestContext.Current.CancellationToken);
        }

        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().FramesDelivered == 3, "3 frames delivered");
        Assert.False(writing.IsCompleted);
        Assert.Equal(1, broadcaster.SubscriberCount);

        time.Advance(TimeSpan.FromSeconds(1));
        var result = await writing.WaitAsync(SubscriptionReading.Deadline, TestContext.Current.CancellationToken);

        Assert.Equal(GraphEventStreamEndReason.MaxDurationReached, result.EndReason);
        Assert.Equal(SubscriptionEndReason.Disposed, result.SubscriptionEndReason);
        Assert.Equal(4, result.FramesWritten);
        Assert.EndsWith("id: " + broadcaster.IdAt(3) + "\nevent: edge_created\ndata: {\"from_tool_id\":\"tool:2\",\"to_tool_id\":\"tool:3\",\"confidence_score\":0.5,\"timestamp\":\"2025-12-01T10:30:00.123Z\"}\n\n", Encoding.UTF8.GetString(output.Written.WrittenSpan), StringComparison.Ordinal);
        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task A_stream_that_ended_otherwise_is_not_reported_as_MaxDurationReached()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        var options = new GraphEventStreamWriterOptions { MaxStreamDuration = TimeSpan.FromSeconds(10), TimeProvider = time };
        var writing = subscription.WriteToAsync(new CountingWriter(), options, TestContext.Current.CancellationToken);
        await broadcaster.DisposeAsync();
        var result = await writing.WaitAsync(SubscriptionReading.Deadline, TestContext.Current.CancellationToken);

        // The lifetime's timer is gone with the stream: a late advance changes nothing.
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(GraphEventStreamEndReason.SubscriptionEnded, result.EndReason);
        Assert.Equal(SubscriptionEndReason.BroadcasterDisposed, result.SubscriptionEndReason);
    }

    [Fact]
    public async Task Without_a_lifetime_the_stream_stays_open()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        var writing = subscription.WriteToAsync(new CountingWriter(), new GraphEventStreamWriterOptions { MaxStreamDuration = null, TimeProvider = time }, TestContext.Current.CancellationToken);

        time.Advance(TimeSpan.FromDays(30));
        await broadcaster.PublishAsync(SampleEvents.Edge(0), TestContext.Current.CancellationToken);
        await SubscriptionReading.EventuallyAsync(() => broadcaster.GetStatistics().FramesDelivered == 1, "a frame delivered");
        Assert.False(writing.IsCompleted);
        subscription.Dispose();
        Assert.Equal(GraphEventStreamEndReason.SubscriptionEnded, (await writing).EndReason);
    }

    [Fact]
    public void The_default_lifetime_is_ten_minutes_and_the_jitter_only_shortens_it_by_up_to_a_tenth()
    {
        Assert.Equal(TimeSpan.FromMinutes(10), new GraphEventStreamWriterOptions().MaxStreamDuration);
        var max = TimeSpan.FromMinutes(10);
        Assert.Equal(TimeSpan.FromMinutes(9), StreamLifetime.Jittered(max, 0));
        Assert.InRange(StreamLifetime.Jittered(max, Math.BitDecrement(1.0)), TimeSpan.FromMinutes(9), max);
        Assert.True(StreamLifetime.Jittered(max, Math.BitDecrement(1.0)) <= max);
        Assert.Equal(TimeSpan.FromMinutes(9.5), StreamLifetime.Jittered(max, 0.5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_flush_out_of_time_is_a_write_timeout_even_when_the_host_answers_it_by_cancelling_the_callers_token(bool throwsIOException)
    {
        // Kestrel aborts a request whose flush was cancelled; over HTTP/2 the abort reaches the
        // request's token (the caller's) before the writer sees the cancelled flush.
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var broadcaster = GraphEventBroadcaster.Create(timeProvider: time);
        var subscription = broadcaster.Subscribe();
        using var requestAborted = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var output = new AbortingWriter(requestAborted, throwsIOException);
        var options = new GraphEventStreamWriterOptions { WriteTimeout = TimeSpan.FromSeconds(5), TimeProvider = time };
        var writing = subscription.WriteToAsync(output, options, requestAborted.Token);

        await broadcaster.PublishAsync(SampleEvents.Edge(0), TestContext.Current.CancellationToken);
        await output.SecondFlushStarted.Task.WaitAsync(SubscriptionReading.Deadline, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await writing.WaitAsync(SubscriptionReading.Deadline, TestContext.Current.CancellationToken);

        Assert.True(requestAborted.IsCancellationRequested);
        Assert.Equal(GraphEventStreamEndReason.WriteTimedOut, result.EndReason);
        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    [Fact]
    public async Task A_caller_that_cancels_during_a_flush_in_time_ends_the_stream_as_cancelled()
    {
        var time = new FakeTimeProvider(SampleEvents.Timestamp);
        await using var broadcaster = GraphEventBroadcaster.Create(timeProvider: time);
        var subscription = broadcaster.Subscribe();
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var output = new AbortingWriter(caller, throwsIOException: false);
        var options = new GraphEventStreamWriterOptions { WriteTimeout = TimeSpan.FromSeconds(5), TimeProvider = time };
        var writing = subscription.WriteToAsync(output, options, caller.Token);

        await broadcaster.PublishAsync(SampleEvents.Edge(0), TestContext.Current.CancellationToken);
        await output.SecondFlushStarted.Task.WaitAsync(SubscriptionReading.Deadline, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(4));
        await caller.CancelAsync();
        var result = await writing.WaitAsync(SubscriptionReading.Deadline, TestContext.Current.CancellationToken);

        Assert.Equal(GraphEventStreamEndReason.Cancelled, result.EndReason);
    }

    [Theory]
    [InlineData(nameof(GraphEventStreamWriterOptions.RetryInterval))]
    [InlineData(nameof(GraphEventStreamWriterOptions.WriteTimeout))]
    [InlineData(nameof(GraphEventStreamWriterOptions.MaxBatchBytes))]
    [InlineData(nameof(GraphEventStreamWriterOptions.MaxStreamDuration))]
    [InlineData(nameof(GraphEventStreamWriterOptions.MaxStreamDuration) + " long")]
    public async Task Invalid_options_are_refused_with_a_message_naming_the_option(string option)
    {
        await using var broadcaster = GraphEventBroadcaster.Create();
        using var subscription = broadcaster.Subscribe();
        var options = new GraphEventStreamWriterOptions();
        switch (option)
        {
            case nameof(GraphEventStreamWriterOptions.RetryInterval): options.RetryInterval = TimeSpan.Zero; break;
            case nameof(GraphEventStreamWriterOptions.WriteTimeout): options.WriteTimeout = TimeSpan.FromDays(2); break;
            case nameof(GraphEventStreamWriterOptions.MaxStreamDuration): options.MaxStreamDuration = TimeSpan.FromMilliseconds(999); break;
            case nameof(GraphEventStreamWriterOptions.MaxStreamDuration) + " long": options.MaxStreamDuration = TimeSpan.FromHours(24) + TimeSpan.FromTicks(1); break;
            default: options.MaxBatchBytes = 10; break;
        }

        option = option.Split(' ')[0];

        var error = await Assert.ThrowsAsync<ArgumentException>(() => subscription.WriteToAsync(new Pipe().Writer, options, TestContext.Current.CancellationToken));
        Assert.Contains(option, error.Message, StringComparison.Ordinal);

        // As documented, the subscription is disposed whatever ends the call.
        Assert.Equal(SubscriptionEndReason.Disposed, subscription.EndReason);
        Assert.Equal(0, broadcaster.SubscriberCount);
    }

    private static async Task<string> ReadUntilAsync(PipeReader reader, string terminator)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(SubscriptionReading.Deadline);
        while (true)
        {
            var read = await reader.ReadAsync(timeout.Token);
            var text = Encoding.UTF8.GetString(read.Buffer);
            if (text.Contains(terminator, StringComparison.Ordinal) || read.IsCompleted)
            {
                reader.AdvanceTo(read.Buffer.End);
                return text;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    /// <summary>
    /// Completes its first flush (retry and connected); the second waits until its token is
    /// cancelled, then cancels the request's token, as Kestrel aborts a request whose flush was
    /// cancelled, and fails the flush.
    /// </summary>
    private sealed class AbortingWriter(CancellationTokenSource requestAborted, bool throwsIOException) : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> _written = new();
        private int _flushes;

        public TaskCompletionSource SecondFlushStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Advance(int bytes) => _written.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => _written.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _written.GetSpan(sizeHint);

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (++_flushes == 1)
            {
                return new FlushResult(false, false);
            }

            SecondFlushStarted.TrySetResult();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }
            catch (OperationCanceledException) when (!requestAborted.IsCancellationRequested)
            {
                await requestAborted.CancelAsync();
                if (throwsIOException)
                {
                    throw new IOException("The request was aborted.");
                }

                throw;
            }

            return new FlushResult(false, false);
        }
    }

    /// <summary>Keeps everything written and counts flushes.</summary>
    /// <summary>Records what each flush sent; safe to read while a writer runs on another thread.</summary>
    private sealed class FlushRecordingWriter : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> _pending = new();
        private readonly List<string> _flushes = [];

        public List<string> Flushes
        {
            get
            {
                lock (_flushes)
                {
                    return [.. _flushes];
                }
            }
        }

        public override void Advance(int bytes) => _pending.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => _pending.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _pending.GetSpan(sizeHint);

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            lock (_flushes)
            {
                _flushes.Add(Encoding.UTF8.GetString(_pending.WrittenSpan));
            }

            _pending.Clear();
            return new ValueTask<FlushResult>(new FlushResult(false, false));
        }
    }

    private sealed class CountingWriter : PipeWriter
    {
        public ArrayBufferWriter<byte> Written { get; } = new();

        public int Flushes { get; private set; }

        public override void Advance(int bytes) => Written.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => Written.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => Written.GetSpan(sizeHint);

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Flushes++;
            return new ValueTask<FlushResult>(new FlushResult(false, false));
        }
    }
}
