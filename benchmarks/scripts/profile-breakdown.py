#!/usr/bin/env python3
"""Where the server's CPU goes, by stage of an execution's path (issue 16, DESIGN.md section 8).

Reads a `perf record -g` file of the server (CPU samples of every thread, kernel and native frames
included; start the server with DOTNET_PerfMapEnabled=1, DOTNET_EnableWriteXorExecute=0 and
DOTNET_ReadyToRun=0 so that every managed frame has a name) and puts each sample in one stage:

  server-cpu.py --trace run.perf ...          records one (the measured run only)
  ./build.sh bench probe e2e --perf run.perf  records one per scenario
  python3 benchmarks/scripts/profile-breakdown.py run.perf [--per 109.1] [--leaves 4]

A sample's stage is the first rule that matches its stack: kernel stacks by what the system call
does (file writes are the store's, socket calls the network's, futex/yield/schedule the wake-ups'),
then managed frames from the leaf up. --per US scales the shares to microseconds of a unit of work
(e.g. server-cpu.py's cpu_us_per_execution). Native frames of libraries without frame pointers
(SQLite) often lose their callers: those samples land in a stage by the library itself.

--telemetry first takes out what metrics and traces cost (issue 18, docs/benchmarks.md "Traces on"):
samples whose leaf frame is OpenTelemetry's, System.Diagnostics' Activity or Metrics code, or our
RecordLatency, and every sample of OpenTelemetry's exporter thread.
"""
import argparse, collections, re, subprocess

KERNEL = [
    ("store+log: file writes (kernel)", ["ext4_", "vfs_write", "fdatasync", "vfs_fsync", "jbd2", "fcntl_setlk", "__x64_sys_pwrite", "__x64_sys_pread", "ksys_pwrite", "ksys_pread", "filemap_"]),
    ("network: sockets (kernel)", ["tcp_", "sock_", "inet_", "__x64_sys_sendto", "__x64_sys_recvfrom", "ep_poll", "__x64_sys_epoll", "__x64_sys_sendmsg", "__x64_sys_recvmsg", "__x64_sys_write", "__x64_sys_read", "__x64_sys_writev"]),
    ("wake-ups: futex, yield, scheduling (kernel)", ["futex", "sched_yield", "schedule", "try_to_wake_up"]),
]
STAGES = [
    ("metrics: communities (Louvain)", ["Louvain"]),
    ("metrics: PageRank", ["WeightedPageRank"]),
    ("metrics: other", ["GraphMetricsCalculator", "ToolGraphMetrics"]),
    ("log: event log (SQLite, managed)", ["SqliteEventLog"]),
    ("store: graph change (SQLite, managed)", ["SqliteToolGraphStore", "SqliteGraphChangeWriter"]),
    ("store+log: SQLite engine", ["sqlite3", "libe_sqlite3", "Microsoft.Data.Sqlite", "SQLitePCL"]),
    ("encode: JSON and SSE frames", ["SseFrameEncoder", "GraphEventJson", "GraphEventFrame", "GraphEventContract", "EncodedSize"]),
    ("publish: broadcaster, ring", ["Broadcaster", "ReplayRing", "SubscriberQueue", "GraphEventSubscription"]),
    ("write: SSE stream writer", ["GraphEventStreamWriter", "GraphEventStreamHandler", "FlushTimeout"]),
    ("parse: request body", ["ExecutionPayloadParser"]),
    ("validate: checks and bounds", ["ExecutionLimits", "ToolGraphEngineCore::Check", "ToolGraphEngineCore::MapTasks", "CheckToolId", "CheckEventSize", "DistinctDependencies"]),
    ("learn: engine", ["ToolGraphEngineCore", "ExecutionPlan", "LearnedExecutions"]),
    ("ingest: endpoint, answer", ["IngestEndpoint", "EngineExecutionIngest", "PendingBodyBudget"]),
    ("http: Kestrel, routing, middleware", ["Kestrel", "Microsoft.AspNetCore", "System.Net.Sockets", "System.IO.Pipelines"]),
    ("runtime: thread pool waiting/spinning", ["LowLevelLifoSemaphore", "LowLevelSpinWaiter", "__sched_yield"]),
]
# By the leaf frame only (what the sample was executing), so that a caller's cost is not counted.
TELEMETRY = [
    ("telemetry: traces", re.compile(r"System\.Diagnostics\.Activity|OpenTelemetry\.(Trace|Exporter|Instrumentation|Internal)|HostingApplicationDiagnostics::StartActivity|Otlp|Protobuf")),
    ("telemetry: metrics", re.compile(r"OpenTelemetry\.Metrics|RecordLatency|MeasurementRecorded|System\.Diagnostics\.Metrics|Prometheus")),
]


def telemetry(thread, frames):
    if thread.startswith("OpenTelemetry-B"):
        return "telemetry: traces (exporter thread)"
    for name, pattern in TELEMETRY:
        if frames and pattern.search(frames[0]):
            return name
    return None


def stage(thread, frames):
    if thread.startswith(".NET Tiered") or any("libclrjit" in f for f in frames[:3]):
        return "runtime: JIT (tiered compilation)"
    if thread.startswith(".NET") and "GC" in thread:
        return "runtime: GC thread"
    kernel = [f for f in frames if "[kernel.kallsyms]" in f]
    if kernel:
        for name, keys in KERNEL:
            if any(k in f for f in kernel for k in keys):
                return name
        if len(kernel) == len(frames):
            return "kernel: interrupts, page faults, other"
    for name, keys in STAGES:
        if any(k in f for f in frames for k in keys):
            return name
    if frames and "libcoreclr" in frames[0]:
        return "runtime: allocation, GC, stubs (native, caller lost)"
    return "other: " + thread


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("perf_data")
    p.add_argument("--per", type=float, help="CPU µs per unit of work: print µs per unit beside the shares")
    p.add_argument("--leaves", type=int, default=0, help="the N hottest leaf frames of each stage")
    p.add_argument("--telemetry", action="store_true", help="put the cost of metrics and traces in stages of their own first")
    args = p.parse_args()
    out = subprocess.run(["perf", "script", "-i", args.perf_data, "-F", "comm,tid,ip,sym,dso"],
                         capture_output=True, text=True, check=True).stdout
    counts, leaves, total = collections.Counter(), collections.defaultdict(collections.Counter), 0
    for block in out.split("\n\n"):
        lines = [line for line in block.strip("\n").split("\n") if line.strip()]
        if not lines:
            continue
        m = re.match(r"\s*(.*?)\s+(\d+)\s*$", lines[0])
        thread = m.group(1) if m else lines[0]
        frames = [line.strip() for line in lines[1:]]
        s = (args.telemetry and telemetry(thread, frames)) or stage(thread, frames)
        counts[s] += 1
        total += 1
        leaves[s][re.sub(r"^\S+\s+", "", frames[0])[:110] if frames else "?"] += 1
    print(f"| Stage | Share |{' µs per unit |' if args.per else ''}")
    print(f"|---|---:|{'---:|' if args.per else ''}")
    for s, n in counts.most_common():
        share = n / total
        print(f"| {s} | {100 * share:.1f} % |{f' {share * args.per:.1f} |' if args.per else ''}")
        for leaf, k in leaves[s].most_common(args.leaves):
            print(f"|   {leaf} | {100 * k / total:.1f} % |{' |' if args.per else ''}")
    print(f"\n{total} samples")


if __name__ == "__main__":
    main()
