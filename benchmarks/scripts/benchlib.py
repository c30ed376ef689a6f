"""What the benchmark scripts share: process CPU from /proc, free ports, the sample catalog's tools,
a JSON request, the load average. Imported by server-cpu.py and cluster-bench.py (same folder)."""
import http.client, json, os, socket

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.join(HERE, "..", "..", "src", "Pml.GraphEvents.Server", "Catalog", "sample-catalog.json")
TICK = os.sysconf("SC_CLK_TCK")


class BenchmarkError(Exception):
    """The run is not a valid measurement: the script exits non-zero with this message."""


def cpu_seconds(pid):
    """User + system CPU seconds of the whole process, threads that ended included (clock ticks: 10 ms)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_by_thread(pid):
    """Nanoseconds on a CPU of each live thread (/proc/<pid>/task/<tid>/schedstat, its first field):
    fine enough for runs of a fraction of a second, where ticks of 10 ms are a few percent."""
    times = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                times[task] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended
    return times


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tools():
    servers = json.load(open(CATALOG))["servers"]
    return [f"{server}:{tool}" for server, names in servers.items() for tool in names]


def http_json(port, method, path, body=None, conn=None, timeout=30):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    c.request(method, path, body=body, headers=headers)
    response = c.getresponse()
    payload = response.read()
    if conn is None:
        c.close()
    return response.status, payload


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
