#!/usr/bin/env python3
"""A minimal OTLP/HTTP sink for measuring the server with traces on (docs/benchmarks.md, "Traces on").

Answers 200 to every POST (/v1/traces, /v1/metrics, /v1/logs) and counts what it received; it
decodes nothing, so that its own cost stays out of the server's figures. Not a collector.

    python3 benchmarks/scripts/otlp-sink.py 4318 &
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf ./build.sh bench probe e2e
"""
import http.server
import sys

received = {"posts": 0, "bytes": 0}


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        received["posts"] += 1
        received["bytes"] += len(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
        if received["posts"] % 100 == 1:
            print(f"{self.path}: {received['posts']} exports, {received['bytes']:,} bytes", flush=True)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 4318
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
