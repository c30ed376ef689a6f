using System.IO.Pipelines;
using System.Text;
using Pml.GraphEvents.Tests.TestSupport;

namespace Pml.GraphEvents.Tests.Sse;

/// <summary>
/// The write timeout ends a stream only for a flush that is still pending when its timer runs. A
/// system timer that comes due is queued to the thread pool, and changing it then does not recall
/// the callback: on a busy machine it can run after the flush completed and the writer disarmed
/// it. Regression: that late callback ended healthy streams as timed out (StalledClientTests
/// failed about once in four runs under load, with several of its 99 readers evicted).
/// </summary>
public sealed class WriteTimeoutRaceTests
{
    [Fact]
    public async Task A_timer_callback_that_runs_after_its_flush_completed_does_not_end_the_stream()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broadcaster = GraphEventBroadcaster.Create();
        var subscription = broadcaster.Subscribe();
        var clock = new QueuingTimeProvider();

        // Once the pipe holds 1 KB, a flush waits for the reader: the test decides when it completes.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        // No stream lifetime: this clock brings every armed timer due at once, and the lifetime's
        // would end the stream for a reason this test is not about (and count as an armed timer).
        var options = new GraphEventStreamWriterOptions { WriteTimeout = TimeSpan.FromSeconds(5), MaxStreamDuration = null, TimeProvider = clock };
        var writing = subscription.WriteToAsync(pipe.Writer, options, ct);
        await ReadUntilAsync(pipe.Reader, "event: connected", ct);

        // A frame larger than the pipe's threshold: its flush blocks, with the timeout armed.
        await broadcaster.PublishAsync(new WorkflowExecutedEvent("big", [.. Enumerable.Range(0, 200).Select(i => $"tool:{i}")], true, 1, SampleEvents.Timestamp), ct);
        await SubscriptionReading.EventuallyAsync(() => clock.ArmedTimers == 1, "the flush of the big frame is armed");

        // The timer comes due while the flush is pending; its callback waits for a thread.
        clock.ComeDue();

        // The reader drains the pipe: the flush completes and the writer disarms the timer.
        var disarms = clock.Disarms;
        await ReadUntilAsync(pipe.Reader, "\"workflow_id\":\"big\"", ct);
        await SubscriptionReading.EventuallyAsync(() => clock.Disarms > disarms, "the writer disarmed the timeout");

        // The late callback runs now, as on a busy thread pool. The flush it timed completed.
        clock.RunQueuedCallbacks();

        await broadcaster.PublishAsync(SampleEvents.Edge(1), ct);
        var next = ReadUntilAsync(pipe.Reader, "\"from_tool_id\":\"tool:1\"", ct);
        if (await Task.WhenAny(next, writing) == writing)
        {
            Assert.Fail($"The stream ended ({(await writing).EndReason}) instead of writing the next event.");
        }

        Assert.Equal(1, broadcaster.SubscriberCount);

        subscription.Dispose();
        Assert.Equal(GraphEventStreamEndReason.SubscriptionEnded, (await writing).EndReason);
    }

    private static async Task<string> ReadUntilAsync(PipeReader reader, string marker, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(SubscriptionReading.Deadline);
        var seen = new StringBuilder();
        while (true)
        {
            var read = await reader.ReadAsync(timeout.Token);
            seen.Append(Encoding.UTF8.GetString(read.Buffer));
            reader.AdvanceTo(read.Buffer.End);
            if (seen.ToString().Contains(marker, StringComparison.Ordinal) || read.IsCompleted)
            {
                return seen.ToString();
            }
        }
    }

    /// <summary>
    /// A clock whose timers behave as the system's under load: a timer that comes due has its
    /// callback queued, and the callback runs later (here: when the test says), even if the timer
    /// was changed or disposed in between.
    /// </summary>
    private sealed class QueuingTimeProvider : TimeProvider
    {
        private readonly List<QueuedTimer> _timers = [];
        private readonly List<QueuedTimer> _queued = [];
        private int _disarms;

        /// <summary>How many times a timer was changed to never or disposed.</summary>
        public int Disarms => Volatile.Read(ref _disarms);

        public int ArmedTimers
        {
            get
            {
                lock (_timers)
                {
                    return _timers.Count(t => t.Armed);
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new QueuedTimer(this, callback, state);
            lock (_timers)
            {
                _timers.Add(timer);
            }

            timer.Change(dueTime, period);
            return timer;
        }

        /// <summary>Every armed timer comes due: its callback is queued, not run.</summary>
        public void ComeDue()
        {
            lock (_timers)
            {
                foreach (var timer in _timers.Where(t => t.Armed))
                {
                    timer.Armed = false;
                    _queued.Add(timer);
                }
            }
        }

        public void RunQueuedCallbacks()
        {
            QueuedTimer[] queued;
            lock (_timers)
            {
                queued = [.. _queued];
                _queued.Clear();
            }

            foreach (var timer in queued)
            {
                timer.Run();
            }
        }

        private sealed class QueuedTimer(QueuingTimeProvider owner, TimerCallback callback, object? state) : ITimer
        {
            public bool Armed { get; set; }

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                lock (owner._timers)
                {
                    Armed = dueTime != Timeout.InfiniteTimeSpan;
                }

                if (!Armed)
                {
                    Interlocked.Increment(ref owner._disarms);
                }

                return true;
            }

            public void Run() => callback(state);

            public void Dispose()
            {
                lock (owner._timers)
                {
                    Armed = false;
                    owner._timers.Remove(this);
                }

                Interlocked.Increment(ref owner._disarms);
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
