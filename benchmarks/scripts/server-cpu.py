#!/usr/bin/env python3
"""Server CPU per learned execution and per delivered frame (DESIGN.md section 8), end to end.

Starts a built server (Release) in a child process on 127.0.0.1, optionally opens N SSE readers,
posts chain executions over the sample catalog in POSTs of --batch, and reads the server's own
user+system CPU time from /proc/<pid>/stat before and after the measured run.

  dotnet build -c Release src/Pml.GraphEvents.Server
  python3 benchmarks/scripts/server-cpu.py --dll src/Pml.GraphEvents.Server/bin/Release/net10.0/Pml.GraphEvents.Server.dll
  python3 benchmarks/scripts/server-cpu.py --dll ... --clients 100

An interim tool until the end-to-end probe (`./build.sh bench probe e2e`) exists.
"""
import argparse, http.client, json, os, random, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.join(HERE, "..", "..", "src", "Pml.GraphEvents.Server", "Catalog", "sample-catalog.json")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tools():
    servers = json.load(open(CATALOG))["servers"]
    return [f"{server}:{tool}" for server, names in servers.items() for tool in names]


class Reader(threading.Thread):
    """One SSE client on a raw socket: counts complete frames with an id (events, not heartbeats)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.frames = 0
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        self.connected = threading.Event()

    def run(self):
        buffer = b""
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b"\n\n" in buffer:
                frame, buffer = buffer.split(b"\n\n", 1)
                if b"event: connected" in frame:
                    self.connected.set()
                elif b"\nid: " in b"\n" + frame or frame.startswith(b"id: "):
                    self.frames += 1


def post(conn, body):
    conn.request("POST", "/executions", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    if response.status != 202:
        sys.exit(f"POST answered {response.status}")


def run(args):
    port = free_port()
    db = os.path.join(tempfile.mkdtemp(), "cpu.db")
    server = subprocess.Popen(
        ["dotnet", args.dll, "--urls", f"http://127.0.0.1:{port}", "--Server:Simulate", "false", "--db", db,
         "--GraphEvents:MaxSubscribers", str(max(100, args.clients + 10)),
         "--GraphEvents:Stream:MaxStreamsPerAddress", str(max(100, args.clients + 10)),
         "--Logging:LogLevel:Default", "Warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("server did not start")
            time.sleep(0.2)

        names = tools()
        rng = random.Random(args.seed)
        counter = [0]

        def body():
            batch = []
            for _ in range(args.batch):
                counter[0] += 1
                chain = rng.sample(names, rng.randint(2, 5))
                batch.append({"execution_id": f"e{counter[0]}", "tool_ids": chain, "success": True, "execution_time_ms": 10})
            return json.dumps(batch)

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(args.warmup // args.batch):  # JIT, SQLite pages, graph shape
            post(conn, body())

        readers = [Reader(port) for _ in range(args.clients)]
        for r in readers:
            r.start()
        for r in readers:
            if not r.connected.wait(30):
                sys.exit("a reader did not connect")

        bodies = [body() for _ in range(args.executions // args.batch)]
        time.sleep(1)  # let the readers' connection work settle before the first reading
        before = cpu_seconds(server.pid)
        start = time.perf_counter()
        for b in bodies:
            post(conn, b)
        # Wait until no reader's count has moved for a second (bounded): every frame written was read.
        last, still_since, deadline = None, time.time(), time.time() + 120
        while readers and time.time() < deadline:
            counts = [r.frames for r in readers]
            if counts != last:
                last, still_since = counts, time.time()
            elif time.time() - still_since > 1.0:
                break
            time.sleep(0.05)
        quiet = 1.0 if readers else 0.0
        wall = time.perf_counter() - start - quiet
        cpu = cpu_seconds(server.pid) - before
        frames = sum(r.frames for r in readers)
        result = {"executions": args.executions, "batch": args.batch, "clients": args.clients,
                  "server_cpu_s": round(cpu, 3), "cpu_us_per_execution": round(cpu / args.executions * 1e6, 1),
                  "wall_s": round(wall, 3), "executions_per_s": round(args.executions / wall)}
        if readers:
            result["frames_delivered"] = frames
            result["frames_per_client_min_max"] = [min(r.frames for r in readers), max(r.frames for r in readers)]
            result["cpu_us_per_frame"] = round(cpu / frames * 1e6, 2) if frames else None
        print(json.dumps(result))
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dll", required=True)
    p.add_argument("--executions", type=int, default=5000)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2000)
    p.add_argument("--clients", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    run(p.parse_args())
