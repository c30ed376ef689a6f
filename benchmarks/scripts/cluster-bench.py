#!/usr/bin/env python3
"""Many server instances on one Redis (issue 15): cross-instance delivery latency, the learner's
throughput through Redis, and failover time, end to end.

Starts its own redis-server on a free loopback port (no persistence, never 6379) and two instances
of a published server (Release) in cluster mode on it, each a child process on 127.0.0.1, and
measures three things:

1. Latency: a steady --rate executions/s (POSTs of one execution, sent on a schedule of absolute
   times by --senders threads) for --seconds, all to the instance that is not the learner, then
   all to the learner; --readers SSE readers on raw sockets on each instance. Each delivery is
   timed from just before its POST was sent to the moment a reader holds its workflow_executed
   (matched by workflow_id); percentiles per side (readers on the POSTed instance, readers on the
   other), the first --warmup-seconds excluded.
2. Throughput: --executions executions in POSTs of --batch, back to back, to the non-learner (with
   --readers readers on it, none on the learner), timed from the first POST until /healthz shows a
   learner lag of 0 on both, both report the same as_of_event_id, and GET /graph on both holds the
   expected total observed_count; the CPU of each server process (/proc/<pid>/task/*/schedstat)
   and of redis-server per execution over the run (until they are quiet again).
3. Failover (--failovers rounds): SIGKILL the learner, POST one execution to the survivor at once,
   poll the survivor's /healthz every 20 ms until it is the learner; the time from the kill to the
   takeover and to that execution's workflow_executed on a reader of the survivor. A fresh
   instance is started after each round, so that there are always two.

Every run is checked: a POST not answered 202 or an execution not accepted, a reader cut off or
told events_lost, an execution not delivered exactly once to every reader, readers (on both
instances) ending on different numbers of events or different last ids, or a graph that does not
converge, stops the script with a non-zero exit and the reason.

  dotnet publish -c Release src/Pml.GraphEvents.Server -o /tmp/srv-cluster
  python3 benchmarks/scripts/cluster-bench.py --dll /tmp/srv-cluster/Pml.GraphEvents.Server.dll
  python3 benchmarks/scripts/cluster-bench.py --dll ... --phases failover --lease 00:00:01
  python3 benchmarks/scripts/cluster-bench.py --dll ... --json        # one JSON document instead of the text
"""
import argparse, http.client, json, os, random, re, selectors, shutil, signal, socket, subprocess, sys
import tempfile, threading, time

from benchlib import TICK, BenchmarkError, cpu_by_thread, cpu_seconds, free_port, http_json, load_average, tools
PHASES = ("latency", "throughput", "failover")
WORKFLOW = re.compile(rb'event: workflow_executed\ndata: \{"workflow_id":"([^"]*)"')


# ---------------------------------------------------------------- processes, CPU, HTTP

class CpuMeter:
    """A process's CPU time from start() to stop(): its threads' run times in nanoseconds; when a
    thread that was there at start() has ended by stop(), the process's clock ticks instead."""

    def __init__(self, pid):
        self.pid = pid

    def start(self):
        self.threads, self.ticks = cpu_by_thread(self.pid), cpu_seconds(self.pid)

    def stop(self):
        after, ticks = cpu_by_thread(self.pid), cpu_seconds(self.pid)
        self.precise = all(t in after for t in self.threads)
        if not self.precise:
            return ticks - self.ticks
        return sum(ns - self.threads.get(t, 0) for t, ns in after.items()) / 1e9


def settle(pids, limit=3.0):
    """Waits until the processes have stopped using CPU (less than 3 ms each over 0.3 s; at most
    `limit` seconds): work still in flight at the end of a run is counted, later work is not."""
    deadline = time.time() + limit
    last = [sum(cpu_by_thread(p).values()) for p in pids]
    while time.time() < deadline:
        time.sleep(0.3)
        now = [sum(cpu_by_thread(p).values()) for p in pids]
        if all(n - l < 3_000_000 for n, l in zip(now, last)):
            break
        last = now


def post(conn, port, body, expected, where):
    status, payload = http_json(port, "POST", "/executions", body, conn)
    if status != 202:
        raise BenchmarkError(f"POST /executions to {where} answered {status}: {payload[:300]!r}")
    accepted = json.loads(payload).get("accepted", [])
    if len(accepted) != expected:
        raise BenchmarkError(f"POST /executions to {where} accepted {len(accepted)} of {expected}: {payload[:300]!r}")


class Executions:
    """Chain executions (2-5 distinct tools of the sample catalog) with ids unique over the whole
    script run (the shared executions log answers a repeated id as a duplicate), and the number of
    edge observations they make (a chain of k tools observes k-1 edges)."""

    def __init__(self, seed):
        self.rng, self.names, self.counter = random.Random(seed), tools(), 0

    def make(self, prefix, count):
        out = []
        for _ in range(count):
            self.counter += 1
            chain = self.rng.sample(self.names, self.rng.randint(2, 5))
            out.append({"execution_id": f"{prefix}{self.counter}", "tool_ids": chain, "success": True, "execution_time_ms": 5})
        return out

    @staticmethod
    def observations(executions):
        return sum(len(e["tool_ids"]) - 1 for e in executions)


class Instance:
    """One server process in cluster mode."""

    def __init__(self, args, redis_port, stream_key, folder, name):
        self.name, self.port = name, free_port()
        self.stderr_path = os.path.join(folder, f"{name}.stderr")
        self.stderr = open(self.stderr_path, "w+")
        limit = str(max(100, 2 * args.readers + 10))
        command = ["dotnet", args.dll, "--urls", f"http://127.0.0.1:{self.port}", "--Server:Simulate=false",
                   f"--GraphEvents:Redis:ConnectionString=127.0.0.1:{redis_port}",
                   f"--GraphEvents:Redis:StreamKey={stream_key}",
                   f"--GraphEvents:MaxSubscribers={limit}", f"--GraphEvents:Stream:MaxStreamsPerAddress={limit}",
                   # The throughput run bursts some 17,000 frames at each reader faster than this
                   # script's one reader thread can take them: buffers large enough that a reader is
                   # not disconnected as a slow subscriber (the server's default policy) for it.
                   f"--GraphEvents:SubscriberBufferCapacity={args.subscriber_buffer}",
                   f"--GraphEvents:SubscriberBufferCapacityBytes={args.subscriber_buffer * 1024}",
                   "--Logging:LogLevel:Default=Warning"]
        if args.lease:
            command.append(f"--GraphEvents:Redis:LearnerLease={args.lease}")
        command += args.server_arg
        self.process = subprocess.Popen(command, cwd=folder, stdout=self.stderr, stderr=subprocess.STDOUT)  # the console log (warnings) goes to stdout
        self.pid, self.instance_id = self.process.pid, None

    def health(self, timeout=5):
        status, payload = http_json(self.port, "GET", "/healthz", timeout=timeout)
        if status != 200:
            raise BenchmarkError(f"GET /healthz on {self.name} answered {status}: {payload[:300]!r}")
        return json.loads(payload)

    def graph(self):
        status, payload = http_json(self.port, "GET", "/graph")
        if status != 200:
            raise BenchmarkError(f"GET /graph on {self.name} answered {status}")
        return json.loads(payload)

    def wait_ready(self, limit=60):
        deadline = time.time() + limit
        while time.time() < deadline:
            self.check_alive()
            try:
                h = self.health()
                c = h.get("cluster") or {}
                if c.get("redis") == "reachable" and c.get("learner"):
                    self.instance_id = c["instance_id"]
                    return h
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise BenchmarkError(f"{self.name} did not become ready (Redis reachable, a learner known) in {limit} s")

    def check_alive(self):
        if self.process.poll() is not None:
            self.stderr.seek(0)
            raise BenchmarkError(f"{self.name} exited with {self.process.returncode}: {self.stderr.read()[-2000:]}")

    def kill(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.stderr.close()


class Redis:
    def __init__(self, folder):
        self.port = free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.process.pid
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise BenchmarkError("redis-server did not start")

    def stop(self):
        self.process.kill()
        self.process.wait()


# ---------------------------------------------------------------- SSE readers

class Readers(threading.Thread):
    """SSE clients on raw sockets in groups (one per instance), served by one thread with one
    selector. Per reader, from arm() on: its events (frames with an id, `connected` not counted),
    the last id and when it arrived, and each workflow_executed's workflow_id with the moment the
    reader got it (the first time) and how many times it came."""

    def __init__(self, groups):
        super().__init__(daemon=True)
        self.selector = selectors.DefaultSelector()
        self.state = []
        for label, port, count in groups:
            for _ in range(count):
                sock = socket.create_connection(("127.0.0.1", port))
                sock.sendall(b"GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                sock.setblocking(False)
                s = {"label": label, "sock": sock, "buffer": b"", "connected": False, "events": 0, "last": None,
                     "last_at": None, "lost": False, "closed": False, "seen": {}, "extra": 0,
                     "raw": b"", "head": True, "chunked": False, "left": 0, "crlf": False}
                self.state.append(s)
                self.selector.register(sock, selectors.EVENT_READ, s)
        self.armed = False
        self.stopping = False
        self.all_connected = threading.Event()
        self.error = None
        self.start()
        if not self.all_connected.wait(30) or self.error:
            raise BenchmarkError(f"a reader did not connect {self.error or ''}")

    def group(self, label):
        return [s for s in self.state if s["label"] == label]

    def arm(self):
        for s in self.state:
            s["events"], s["last"], s["last_at"], s["seen"], s["extra"] = 0, None, None, {}, 0
        self.armed = True

    def run(self):
        try:
            self.serve()
        except Exception as e:  # a bug here must stop the benchmark, not leave it waiting
            self.error = repr(e)
            self.all_connected.set()
            raise

    def serve(self):
        pending = len(self.state)
        while not self.stopping:
            for key, _ in self.selector.select(timeout=0.2):
                s = key.data
                try:
                    data = s["sock"].recv(1 << 16)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                now = time.perf_counter()
                if not data:
                    s["closed"] = True
                    self.selector.unregister(s["sock"])
                    continue
                data = self.decode(s, data)
                if data is None:
                    self.selector.unregister(s["sock"])
                    continue
                buffer = s["buffer"] + data
                end = buffer.rfind(b"\n\n")
                if end < 0:
                    s["buffer"] = buffer
                    continue
                complete, s["buffer"] = b"\n" + buffer[:end + 1], buffer[end + 2:]
                connected = complete.count(b"\nevent: connected\n")
                if connected and not s["connected"]:
                    s["connected"] = True
                    pending -= 1
                    if pending == 0:
                        self.all_connected.set()
                if b"\nevent: events_lost\n" in complete or b"\nevent: log_reset\n" in complete:
                    s["lost"] = True
                if not self.armed:
                    continue
                events = complete.count(b"\nid: ") - connected
                if events <= 0:
                    continue
                at = complete.rfind(b"\nid: ") + 1
                s["last"] = complete[at + 4:complete.index(b"\n", at)].decode()
                s["events"] += events
                s["last_at"] = now
                seen = s["seen"]
                found = 0
                for m in WORKFLOW.finditer(complete):
                    found += 1
                    wid = m.group(1).decode()
                    if wid in seen:
                        seen[wid][1] += 1
                    else:
                        seen[wid] = [now, 1]
                if found != complete.count(b"\nevent: workflow_executed\n"):
                    raise RuntimeError(f"a workflow_executed frame without workflow_id first: {complete[:300]!r}")

    @staticmethod
    def decode(s, data):
        """The SSE bytes in `data`, the HTTP/1.1 response head and chunked framing taken off; None
        when the response ended or is not a 200 event stream."""
        raw = s["raw"] + data
        out = []
        while raw:
            if s["head"]:
                end = raw.find(b"\r\n\r\n")
                if end < 0:
                    break
                head, raw = raw[:end].lower(), raw[end + 4:]
                if not head.startswith(b"http/1.1 200"):
                    s["closed"] = True
                    return None
                s["head"], s["chunked"] = False, b"transfer-encoding: chunked" in head
                if not s["chunked"]:
                    s["left"] = -1
            elif s["left"] == -1:
                out.append(raw)
                raw = b""
            elif s["left"] > 0:
                take = raw[:s["left"]]
                out.append(take)
                s["left"] -= len(take)
                raw = raw[len(take):]
            else:
                end = raw.find(b"\r\n", 2 if s["crlf"] else 0)
                if end < 0:
                    break
                line = raw[2 if s["crlf"] else 0:end]
                raw = raw[end + 2:]
                s["left"], s["crlf"] = int(line.split(b";")[0], 16), True
                if s["left"] == 0:
                    s["closed"] = True
                    return None
        s["raw"] = raw
        return b"".join(out)

    def broken(self, states=None):
        return self.error or any(s["lost"] or s["closed"] for s in (states or self.state))

    def wait_all(self, ids, states=None, limit=60):
        """Until every reader (of `states`) holds every id in `ids` (or one is broken, or `limit`)."""
        states = states or self.state
        deadline = time.time() + limit
        while time.time() < deadline and not self.broken(states):
            if all(len(s["seen"]) >= len(ids) and all(i in s["seen"] for i in ids) for s in states):
                return True
            time.sleep(0.02)
        return False

    def check(self, ids, states=None, same_last=None):
        """Every reader got every execution of `ids` exactly once (and none other), no events_lost,
        nobody cut off, all the same number of events and (when given) the same last id."""
        states = states if states is not None else self.state
        problems = [f"the readers' thread failed: {self.error}"] if self.error else []
        lost = [s["label"] for s in states if s["lost"]]
        closed = [s["label"] for s in states if s["closed"]]
        if lost:
            problems.append(f"{len(lost)} reader(s) got events_lost or log_reset (on {sorted(set(lost))})")
        if closed:
            problems.append(f"{len(closed)} reader(s) were cut off (on {sorted(set(closed))})")
        ids = set(ids)
        for s in states:
            missing = [i for i in ids if i not in s["seen"]]
            twice = [i for i, (_, n) in s["seen"].items() if n > 1]
            foreign = [i for i in s["seen"] if i not in ids]
            if missing or twice or foreign:
                problems.append(f"a reader on {s['label']} ({s['events']} events, the last {s['last']}, "
                                f"{sum(1 for x in states if x['label'] == s['label'] and len(x['seen']) == len(s['seen']))} reader(s) there alike): "
                                f"{len(missing)} execution(s) never delivered (e.g. {missing[:3]}), "
                                f"{len(twice)} delivered more than once (e.g. {twice[:3]}), {len(foreign)} not of this run (e.g. {foreign[:3]})")
                break
        counts = sorted({s["events"] for s in states})
        if len(counts) != 1:
            problems.append(f"readers received different numbers of events: {counts[:6]}")
        if same_last is not None:
            short = [s for s in states if s["last"] != same_last]
            if short:
                problems.append(f"{len(short)} reader(s) did not end on {same_last} (one on {short[0]['label']} ended on {short[0]['last']})")
        if problems:
            raise BenchmarkError("; ".join(problems))

    def close(self):
        self.stopping = True
        self.join(2)
        for s in self.state:
            s["sock"].close()


# ---------------------------------------------------------------- the cluster

class Cluster:
    def __init__(self, args):
        self.args = args
        self.folder = tempfile.mkdtemp(prefix="cluster-bench-")
        self.stream_key = f"cluster-bench-{os.getpid()}-{int(time.time())}"
        self.redis = Redis(self.folder)
        self.instances = []
        self.started = 0
        self.add()
        self.add()

    def add(self):
        self.started += 1
        instance = Instance(self.args, self.redis.port, self.stream_key, self.folder, f"instance-{self.started}")
        self.instances.append(instance)
        instance.wait_ready()
        return instance

    def roles(self):
        """(learner, non-learner) as the instances' /healthz report it (both must agree)."""
        health = {i.name: i.health()["cluster"] for i in self.instances}
        learners = {c["learner"] for c in health.values()}
        if len(learners) != 1:
            raise BenchmarkError(f"the instances disagree about the learner: {health}")
        learner_id = learners.pop()
        learner = [i for i in self.instances if i.instance_id == learner_id]
        if len(learner) != 1:
            raise BenchmarkError(f"the learner {learner_id} is none of the running instances: {health}")
        return learner[0], [i for i in self.instances if i is not learner[0]][0]

    def converged(self):
        """The last event id both graphs reflect once the learner has caught up and both instances
        agree, or None."""
        health = [i.health()["cluster"] for i in self.instances]
        if any(c["redis"] != "reachable" or c.get("learner_lag") != 0 for c in health):
            return None
        ids = {c.get("as_of_event_id") for c in health}
        return ids.pop() if len(ids) == 1 else None

    def wait_converged(self, readers=None, limit=60, poll=0.05):
        deadline = time.time() + limit
        while time.time() < deadline:
            for i in self.instances:
                i.check_alive()
            last = self.converged()
            if last is not None and (readers is None or all(s["last"] == last for s in readers.state)):
                return last
            if readers is not None and readers.broken():
                return last
            time.sleep(poll)
        raise BenchmarkError(f"the instances did not converge in {limit} s: "
                             f"{[i.health()['cluster'] for i in self.instances]}"
                             + (f"; readers' last ids {sorted({str(s['last']) for s in readers.state})}" if readers else ""))

    def warm_up(self, executions):
        """JIT, Redis connections, graph shape: POSTs of 10, half to each instance, then converged."""
        conns = {i.name: http.client.HTTPConnection("127.0.0.1", i.port, timeout=30) for i in self.instances}
        for n in range(self.args.warmup // 10):
            i = self.instances[n % 2]
            post(conns[i.name], i.port, json.dumps(executions.make("w", 10)), 10, i.name)
        for c in conns.values():
            c.close()
        self.wait_converged()
        settle([i.pid for i in self.instances])

    def close(self):
        for i in self.instances:
            i.kill()
        self.redis.stop()
        if self.args.keep_logs:
            print(f"# the instances' stderr: {self.folder}", file=sys.stderr)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)


def percentiles(values):
    if not values:
        return {"count": 0}
    v = sorted(values)

    def rank(p):
        return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]
    return {"count": len(v), "p50_ms": round(rank(50) * 1e3, 2), "p90_ms": round(rank(90) * 1e3, 2),
            "p99_ms": round(rank(99) * 1e3, 2), "max_ms": round(v[-1] * 1e3, 2)}


# ---------------------------------------------------------------- 1. latency

def paced(cluster, target, other, readers, executions, label, role):
    """--rate executions/s, POSTs of one, to `target` for --seconds; latency per delivery."""
    args = cluster.args
    total = int(args.rate * args.seconds)
    bodies = executions.make(f"{label}-", total)
    sent = [None] * total
    errors = []
    cluster.wait_converged()  # the readers hold everything before (the last run's check, or connected after it)
    readers.arm()
    client_cpu = sum(os.times()[:2])
    t0 = time.perf_counter() + 0.2

    def sender(k):
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
        try:
            for i in range(k, total, args.senders):
                if errors:
                    return
                due = t0 + i / args.rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                sent[i] = time.perf_counter()
                post(conn, target.port, json.dumps(bodies[i]), 1, target.name)
        except Exception as e:
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(args.senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0] if isinstance(errors[0], BenchmarkError) else BenchmarkError(repr(errors[0]))
    ids = [b["execution_id"] for b in bodies]
    readers.wait_all(ids)
    client_cpu = sum(os.times()[:2]) - client_cpu
    last = cluster.wait_converged(readers)
    readers.check(ids, same_last=last)

    warm = {i for i in range(total) if i / args.rate < args.warmup_seconds}
    measured = [i for i in range(total) if i not in warm]
    when = {ids[i]: sent[i] for i in measured}
    result = {"posted_to": role,
              "executions": total, "measured": len(measured),
              "target_rate": args.rate,
              "achieved_rate": round((len(measured) - 1) / (sent[measured[-1]] - sent[measured[0]]), 1),
              "send_lateness_ms": percentiles([sent[i] - (t0 + i / args.rate) for i in measured]),
              # This script's own CPU (senders and readers) over the run: it shares the cores with the servers.
              "client_cpu_percent_of_one_core": round(client_cpu / (args.seconds) * 100)}
    for side, instance in (("readers_on_posted_instance", target), ("readers_on_other_instance", other)):
        latencies = [s["seen"][wid][0] - t for s in readers.group(instance.name) for wid, t in when.items()]
        result[side] = percentiles(latencies)
    return result


def latency_phase(cluster, executions):
    learner, other = cluster.roles()
    readers = Readers([(learner.name, learner.port, cluster.args.readers), (other.name, other.port, cluster.args.readers)])
    try:
        return [paced(cluster, other, learner, readers, executions, "l-nonlearner", "non-learner"),
                paced(cluster, learner, other, readers, executions, "l-learner", "learner")]
    finally:
        readers.close()


# ---------------------------------------------------------------- 2. throughput

def total_observed(instance):
    g = instance.graph()
    return g.get("as_of_event_id"), sum(e["observed_count"] for e in g["edges"])


def throughput_phase(cluster, executions):
    args = cluster.args
    learner, other = cluster.roles()
    readers = Readers([(other.name, other.port, args.readers)]) if args.readers else None
    try:
        batches = [executions.make("t-", args.batch) for _ in range(args.executions // args.batch)]
        flat = [e for b in batches for e in b]
        bodies = [json.dumps(b) for b in batches]
        cluster.wait_converged()
        settle([learner.pid, other.pid, cluster.redis.pid])
        _, before = total_observed(learner)
        expected = before + Executions.observations(flat)
        if readers:
            readers.arm()
        meters = {name: CpuMeter(pid) for name, pid in (("learner", learner.pid), ("non_learner", other.pid),
                                                         ("redis", cluster.redis.pid))}
        for m in meters.values():
            m.start()
        conn = http.client.HTTPConnection("127.0.0.1", other.port, timeout=30)
        start = time.perf_counter()
        for b in bodies:
            post(conn, other.port, b, args.batch, other.name)
        posted = time.perf_counter()
        conn.close()
        # Learned and on both graphs: healthz first (cheap), /graph only once both report the same id.
        deadline = time.time() + 120
        end = None
        while time.time() < deadline:
            last = cluster.converged()
            if last is not None:
                a, b = total_observed(learner), total_observed(other)
                if a == b == (last, expected):
                    end = time.perf_counter()
                    break
            time.sleep(0.02)
        if end is None:
            raise BenchmarkError(f"not learned within 120 s: expected total observed_count {expected}, "
                                 f"learner {total_observed(learner)}, non-learner {total_observed(other)}, "
                                 f"{[i.health()['cluster'] for i in cluster.instances]}")
        if readers:
            readers.wait_all([e["execution_id"] for e in flat])
            cluster.wait_converged()
        settle([learner.pid, other.pid, cluster.redis.pid])
        cpu = {name: m.stop() for name, m in meters.items()}
        if readers:
            readers.check([e["execution_id"] for e in flat], same_last=last)
        n = len(flat)
        result = {"executions": n, "batch": args.batch, "readers_on_non_learner": args.readers,
                  "wall_s": round(end - start, 3), "executions_per_s": round(n / (end - start)),
                  "posting_s": round(posted - start, 3),
                  "cpu_us_per_execution": {name: round(c / n * 1e6, 1) for name, c in cpu.items()},
                  "cpu_clock": "threads (ns)" if all(m.precise for m in meters.values()) else "process (10 ms ticks)"}
        if readers:
            result["reader_last_delivery_s"] = round(max(s["last_at"] for s in readers.state) - start, 3)
            result["frames_per_reader"] = readers.state[0]["events"]
        return result
    finally:
        if readers:
            readers.close()


# ---------------------------------------------------------------- 3. failover

def failover_phase(cluster, executions):
    args = cluster.args
    rounds = []
    for r in range(args.failovers):
        learner, survivor = cluster.roles()
        cluster.wait_converged()
        readers = Readers([(survivor.name, survivor.port, 1)])
        try:
            readers.arm()
            body = executions.make("f-", 1)
            wid = body[0]["execution_id"]
            conn = http.client.HTTPConnection("127.0.0.1", survivor.port, timeout=30)
            conn.connect()
            killed = time.perf_counter()
            learner.process.send_signal(signal.SIGKILL)
            post(conn, survivor.port, json.dumps(body), 1, survivor.name)
            answered = time.perf_counter()
            conn.close()
            took_over = None
            deadline = time.time() + 60
            while time.time() < deadline:
                survivor.check_alive()
                c = survivor.health()["cluster"]
                if c["is_learner"]:
                    took_over = time.perf_counter()
                    break
                time.sleep(0.02)
            if took_over is None:
                raise BenchmarkError(f"round {r + 1}: the survivor did not take the lease in 60 s: {survivor.health()}")
            if not readers.wait_all([wid]):
                raise BenchmarkError(f"round {r + 1}: {wid}, POSTed to the survivor after the kill, never reached its reader")
            delivered = readers.state[0]["seen"][wid][0]
            learner.kill()
            cluster.instances.remove(learner)
            cluster.add()
            last = cluster.wait_converged(readers)
            readers.check([wid], same_last=last)
            rounds.append({"round": r + 1, "takeover_ms": round((took_over - killed) * 1e3),
                           "post_answered_ms": round((answered - killed) * 1e3),
                           "kill_to_delivered_ms": round((delivered - killed) * 1e3)})
        finally:
            readers.close()

    def summary(key):
        v = sorted(x[key] for x in rounds)
        return {"min": v[0], "median": v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2, "max": v[-1]}
    return {"lease": args.lease or "00:00:03 (default)", "rounds": rounds,
            "takeover_ms": summary("takeover_ms"), "kill_to_delivered_ms": summary("kill_to_delivered_ms")}


# ---------------------------------------------------------------- main

def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def version(command):
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout.strip()
        except OSError:
            return "?"
    return {"nproc": os.cpu_count(), "cpu": model, "dotnet": version(["dotnet", "--version"]),
            "redis": version(["redis-server", "--version"])}


def text(result):
    m = result["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, dotnet {m['dotnet']}, {m['redis']}")
    print(f"load average {result['loadavg_start']} -> {result['loadavg_end']}")
    if "latency" in result:
        print("\n1. Cross-instance delivery latency (POST sent -> workflow_executed at a reader), ms")
        print("| POSTed to | Achieved rate/s (send lateness p99, ms) | Readers on | p50 | p90 | p99 | max | deliveries |")
        print("|---|---:|---|---:|---:|---:|---:|---:|")
        for r in result["latency"]:
            for side, name in (("readers_on_posted_instance", "the POSTed instance"), ("readers_on_other_instance", "the other instance")):
                p = r[side]
                print(f"| {r['posted_to']} | {r['achieved_rate']} ({r['send_lateness_ms']['p99_ms']}) | {name} | {p['p50_ms']} | {p['p90_ms']} | {p['p99_ms']} | {p['max_ms']} | {p['count']:,} |")
        print("this script's own CPU (senders, readers) per latency run, % of one core: "
              + ", ".join(str(r["client_cpu_percent_of_one_core"]) for r in result["latency"]))
    if "throughput" in result:
        t = result["throughput"]
        c = t["cpu_us_per_execution"]
        print(f"\n2. Learner throughput through Redis: {t['executions']:,} executions in POSTs of {t['batch']} to the non-learner "
              f"({t['readers_on_non_learner']} readers on it): {t['executions_per_s']:,} executions/s ({t['wall_s']} s; POSTs answered after {t['posting_s']} s)")
        print(f"   CPU µs per execution: learner {c['learner']}, non-learner {c['non_learner']}, redis-server {c['redis']} ({t['cpu_clock']})")
    if "failover" in result:
        f = result["failover"]
        print(f"\n3. Failover (lease {f['lease']}), ms")
        print("| Round | Kill -> takeover | Kill -> delivered on the survivor | Kill -> POST answered |")
        print("|---:|---:|---:|---:|")
        for r in f["rounds"]:
            print(f"| {r['round']} | {r['takeover_ms']} | {r['kill_to_delivered_ms']} | {r['post_answered_ms']} |")
        for key in ("takeover_ms", "kill_to_delivered_ms"):
            s = f[key]
            print(f"{key}: min {s['min']}, median {s['median']}, max {s['max']}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dll", required=True)
    p.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)} (default: all)")
    p.add_argument("--readers", type=int, default=10, help="SSE readers per instance (default 10)")
    p.add_argument("--rate", type=float, default=200, help="executions/s in the latency runs (default 200)")
    p.add_argument("--seconds", type=float, default=20, help="length of each latency run (default 20)")
    p.add_argument("--warmup-seconds", type=float, default=3, help="first seconds of each latency run left out (default 3)")
    p.add_argument("--senders", type=int, default=4, help="sender threads (connections) of the latency runs (default 4)")
    p.add_argument("--executions", type=int, default=5000, help="executions of the throughput run (default 5000)")
    p.add_argument("--batch", type=int, default=100, help="executions per POST in the throughput run (default 100)")
    p.add_argument("--warmup", type=int, default=2000, help="executions posted (POSTs of 10) before measuring (default 2000)")
    p.add_argument("--failovers", type=int, default=5)
    p.add_argument("--subscriber-buffer", type=int, default=100_000,
                   help="GraphEvents:SubscriberBufferCapacity of every instance (frames; bytes: 1 KiB each) (default 100,000; the server's is 1,024)")
    p.add_argument("--lease", metavar="HH:MM:SS", help="GraphEvents:Redis:LearnerLease for every instance (default: the server's, 3 s)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for every instance (repeatable; write --server-arg=--Key=Value)")
    p.add_argument("--keep-logs", action="store_true", help="keep the instances' stderr files (and name their folder)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the text")
    args = p.parse_args()
    phases = [x for x in args.phases.split(",") if x]
    if any(x not in PHASES for x in phases):
        p.error(f"--phases takes {', '.join(PHASES)}")
    if args.executions < args.batch or args.batch < 1 or args.seconds <= args.warmup_seconds:
        p.error("--executions must be at least --batch, --batch at least 1, --seconds more than --warmup-seconds")
    sys.setswitchinterval(0.001)  # the readers' thread gets the GIL back sooner from the senders

    result = {"machine": machine(), "loadavg_start": load_average()}
    cluster = None
    try:
        cluster = Cluster(args)
        executions = Executions(args.seed)
        cluster.warm_up(executions)
        if "latency" in phases:
            result["latency"] = latency_phase(cluster, executions)
        if "throughput" in phases:
            result["throughput"] = throughput_phase(cluster, executions)
        if "failover" in phases:
            result["failover"] = failover_phase(cluster, executions)
    except BenchmarkError as e:
        sys.exit(f"cluster-bench.py: {e}")
    finally:
        if cluster:
            cluster.close()
    result["loadavg_end"] = load_average()
    if args.json:
        print(json.dumps(result))
    else:
        text(result)


if __name__ == "__main__":
    main()
