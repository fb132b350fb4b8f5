"""OTLP/gRPC span ingest throughput of `sightline serve`, in spans per second
per core of the server (issue 16's figure: at least 150,000/s/core; Tempo's
single binary is quoted at 55-80k/s; no Tempo runs here, so its figure is
the quoted one, not measured in the same run).

Requests are built once with the OpenTelemetry protobuf classes (realistic
spans: 10 attributes, repeated service and route names, 10 spans a trace,
`--spans-per-request` a request) and sent as raw bytes over several gRPC
channels, so the Python sender is not the bottleneck. The server's CPU time
(/proc/<pid>/stat, user + system) over the run gives spans per CPU second:
the per-core rate. Wall-clock spans/s is printed too (2 shared cores here).

Spans go through the whole path: gRPC, protobuf decoding, the mapping,
receiver limits, the trace store (WAL on) and the metrics generator. The
store's per-tenant rate limits (Tempo's 15 MB/s default) are lifted for the
run, as a bench of throughput needs.

Usage: python3 bench/traces_ingest.py [--sightline target/release/sightline]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, free_port, proc_cpu_seconds, wait_http  # noqa: E402


def build_request(n_spans, seed):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    req = ExportTraceServiceRequest()
    services = ["frontend", "cart", "checkout", "payment"]
    routes = ["/api/cart", "/api/checkout", "/api/items/{id}", "/health"]
    per_service = n_spans // len(services)
    for si, svc in enumerate(services):
        rs = req.resource_spans.add()
        rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=svc)))
        rs.resource.attributes.append(KeyValue(key="host.name", value=AnyValue(string_value=f"node-{si}")))
        ss = rs.scope_spans.add()
        ss.scope.name = "opentelemetry.instrumentation.flask"
        for i in range(per_service):
            n = seed * n_spans + si * per_service + i
            s = ss.spans.add()
            s.trace_id = (n // 10 + 1).to_bytes(16, "big")
            s.span_id = (n + 1).to_bytes(8, "big")
            if n % 10:
                s.parent_span_id = (n - n % 10 + 1).to_bytes(8, "big")
            s.name = f"GET {routes[i % 4]}"
            s.kind = 2
            s.start_time_unix_nano = 1_700_000_000_000_000_000 + n * 1000
            s.end_time_unix_nano = s.start_time_unix_nano + 250_000 + (n % 97) * 1000
            attrs = [
                ("http.method", "GET"), ("http.route", routes[i % 4]),
                ("http.scheme", "http"), ("net.host.name", "shop.example"),
                ("http.user_agent", "Mozilla/5.0"), ("http.flavor", "1.1"),
                ("net.peer.ip", f"10.0.{i % 8}.{i % 250}"), ("user.tier", "gold"),
            ]
            for k, v in attrs:
                s.attributes.append(KeyValue(key=k, value=AnyValue(string_value=v)))
            s.attributes.append(KeyValue(key="http.status_code", value=AnyValue(int_value=200)))
            s.attributes.append(KeyValue(key="http.response_content_length", value=AnyValue(int_value=1000 + i)))
    return req.SerializeToString()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sightline", default=os.path.join(ROOT, "target/release/sightline"))
    ap.add_argument("--spans-per-request", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    import grpc

    bodies = [build_request(args.spans_per_request, k) for k in range(8)]
    work = tempfile.mkdtemp(prefix="traces-bench-")
    config = os.path.join(work, "sightline.yml")
    with open(config, "w") as f:
        f.write("traces:\n  store:\n    ingestion_rate_bytes: 0\n    max_traces_per_second: 0\n")
    http_port, grpc_port = free_port(), free_port()
    proc = subprocess.Popen(
        [args.sightline, "serve", "--config", config, "--data-dir", f"{work}/data",
         "--listen", f"127.0.0.1:{http_port}", "--otlp.grpc.listen", f"127.0.0.1:{grpc_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{http_port}/-/ready")
        method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
        chans = [grpc.insecure_channel(f"127.0.0.1:{grpc_port}",
                                       options=[("grpc.max_send_message_length", 64 << 20)])
                 for _ in range(args.threads)]
        calls = [c.unary_unary(method, request_serializer=None, response_deserializer=None) for c in chans]
        calls[0](bodies[0], timeout=30)  # warm up
        per_thread = args.requests // args.threads
        errors = []

        def run(t):
            try:
                for i in range(per_thread):
                    calls[t](bodies[(t + i) % len(bodies)], timeout=60)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        cpu0, t0 = proc_cpu_seconds(proc.pid), time.time()
        threads = [threading.Thread(target=run, args=(t,)) for t in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu1, t1 = proc_cpu_seconds(proc.pid), time.time()
        if errors:
            raise SystemExit(f"export failed: {errors[0]}")
        spans = per_thread * args.threads * args.spans_per_request
        cpu = cpu1 - cpu0
        ours = spans / cpu
        print(f"spans sent: {spans} in {per_thread * args.threads} requests of {args.spans_per_request}")
        print(f"sightline: {spans / (t1 - t0):,.0f} spans/s wall, {cpu:.2f} CPU s, {ours:,.0f} spans/s per core")
        print("tempo (quoted, not run here): 55,000-80,000 spans/s")
        print(f"ratio sightline / tempo (quoted upper 80k): {ours / 80000:.2f}")
        print(f"target >= 150,000 spans/s/core: {'met' if ours >= 150000 else 'NOT met'}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
