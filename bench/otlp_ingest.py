"""OTLP metrics ingestion: data points per CPU-second of the server (issue 12,
"OTLP metrics: at least 1M data points/s per core ingested").

Sends large ExportMetricsServiceRequests (default 10,000 series x 10 points:
100 metrics, half monotonic cumulative sums and half gauges, times 100
attribute sets of 5 realistic attributes, one resource with service.name,
service.instance.id and 3 more attributes) to `sightline serve` over
OTLP/HTTP protobuf, one request after another, and reads the server's CPU
time from /proc: decoding, translation, the TSDB append and the WAL commit
all count. Prints data points per CPU-second ("per core").

Prometheus 2.42 (the peer here) has no OTLP receiver, so the same-run
comparison is remote write 1.0 of the same samples (the series Sightline's
mapping produces, same values and timestamps, snappy-compressed protobuf)
into Sightline and into Prometheus 2.42 (`--web.enable-remote-write-receiver`).
Target series are fresh per server; the first request (series creation) is
a warm-up outside the measurement.

Needs: the Python packages `opentelemetry-proto` (installed with
opentelemetry-exporter-otlp-proto-http) and `cramjam` (snappy), a release
build of sightline, and Debian's prometheus.

    cargo build --release -p sightline-server
    python3 bench/otlp_ingest.py [--requests 20] [--gzip]
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms  # noqa: E402
from opentelemetry.proto.common.v1 import common_pb2 as common  # noqa: E402
from opentelemetry.proto.metrics.v1 import metrics_pb2 as mpb  # noqa: E402

T0_NS = 1_700_000_000_000_000_000  # replaced per request
STEP_NS = 1_000_000_000


def kv(k, v):
    return common.KeyValue(key=k, value=common.AnyValue(string_value=v))


def attr_sets(n):
    methods = ["GET", "POST", "PUT", "DELETE"]
    out = []
    for i in range(n):
        out.append([
            ("http.request.method", methods[i % 4]),
            ("http.route", f"/api/v1/items/{i % 25}"),
            ("http.response.status_code", str(200 + (i % 5))),
            ("server.address", f"backend-{i % 7}.svc.cluster.local"),
            ("k8s.pod.name", f"shop-7d9f8c-{i:05d}"),
        ])
    return out


def build(metrics, sets, points):
    """The OTLP request, and the same samples as remote-write series."""
    rm = mpb.ResourceMetrics()
    res_attrs = [("service.name", "shop"), ("service.instance.id", "pod-1"),
                 ("host.name", "node-3"), ("k8s.namespace.name", "prod"),
                 ("cloud.region", "eu-west-1")]
    rm.resource.attributes.extend(kv(k, v) for k, v in res_attrs)
    sm = rm.scope_metrics.add()
    sm.scope.name = "bench"
    series = []  # (labels dict, [(t_ms, v)])
    for m in range(metrics):
        metric = sm.metrics.add()
        counter = m % 2 == 0
        metric.name = f"app.requests.m{m}" if counter else f"app.queue.depth.m{m}"
        prom_name = f"app_requests_m{m}_total" if counter else f"app_queue_depth_m{m}"
        dps = metric.sum.data_points if counter else metric.gauge.data_points
        if counter:
            metric.sum.is_monotonic = True
            metric.sum.aggregation_temporality = mpb.AGGREGATION_TEMPORALITY_CUMULATIVE
        for si, attrs in enumerate(sets):
            labels = {"__name__": prom_name, "job": "shop", "instance": "pod-1"}
            labels.update({k.replace(".", "_"): v for k, v in attrs})
            samples = []
            for p in range(points):
                dp = dps.add()
                dp.attributes.extend(kv(k, v) for k, v in attrs)
                dp.time_unix_nano = T0_NS + p * STEP_NS
                if counter:
                    dp.start_time_unix_nano = T0_NS - 3600 * STEP_NS
                v = float(si * 10 + p)
                dp.as_double = v
                samples.append((p * 1000, v))
            series.append((labels, samples))
    req = ms.ExportMetricsServiceRequest(resource_metrics=[rm])
    return req.SerializeToString(), series


def fixed64(ns):
    return struct.pack("<Q", ns)


def shift(body, points, base_ns):
    """The request with its timestamps moved to start at `base_ns`."""
    for p in range(points):
        body = body.replace(fixed64(T0_NS + p * STEP_NS), fixed64(base_ns + p * STEP_NS))
    return body


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(tag, payload):
    return varint(tag << 3 | 2) + varint(len(payload)) + payload


def remote_write_body(series, base_ms):
    """prometheus.WriteRequest, encoded by hand, snappy-compressed."""
    import cramjam
    out = bytearray()
    for labels, samples in series:
        ts = bytearray()
        for k in sorted(labels):
            ts += field(1, field(1, k.encode()) + field(2, labels[k].encode()))
        for t, v in samples:
            ts += field(2, b"\x09" + struct.pack("<d", v) + b"\x10" + varint(base_ms + t))
        out += field(1, bytes(ts))
    return bytes(cramjam.snappy.compress_raw(bytes(out)))


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()
        return r.status


def run(name, pid, url, bodies, headers, points):
    post(url, bodies[0], headers)  # warm-up: creates the series
    c0, t0 = benchlib.proc_cpu_seconds(pid), time.time()
    for b in bodies[1:]:
        post(url, b, headers)
    cpu, wall = benchlib.proc_cpu_seconds(pid) - c0, time.time() - t0
    n = points * (len(bodies) - 1)
    rate = n / cpu if cpu > 0 else float("inf")
    print(f"{name:34s} {n:>10,d} points  {cpu:6.2f} CPU-s  {wall:6.2f} s wall  "
          f"{rate / 1e6:6.2f} M points per CPU-second")
    return rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", type=int, default=100)
    ap.add_argument("--attr-sets", type=int, default=100)
    ap.add_argument("--points", type=int, default=10)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--gzip", action="store_true", help="gzip the OTLP bodies")
    ap.add_argument("--sightline", default=os.path.join(benchlib.ROOT, "target/release/sightline"))
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    args = ap.parse_args()

    print("building the requests ...", flush=True)
    template, series = build(args.metrics, attr_sets(args.attr_sets), args.points)
    per_req = args.metrics * args.attr_sets * args.points
    now_ns = time.time_ns() - (args.requests + 2) * args.points * STEP_NS
    starts = [now_ns + r * args.points * STEP_NS for r in range(args.requests + 1)]
    otlp = [shift(template, args.points, s) for s in starts]
    headers = {"Content-Type": "application/x-protobuf"}
    if args.gzip:
        import gzip
        otlp = [gzip.compress(b, 1) for b in otlp]
        headers["Content-Encoding"] = "gzip"
    rw = [remote_write_body(series, s // 1_000_000) for s in starts]
    rw_headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                  "X-Prometheus-Remote-Write-Version": "0.1.0"}
    print(f"{per_req:,d} points per request ({len(otlp[0]):,d} bytes OTLP"
          f"{' gzip' if args.gzip else ''}, {len(rw[0]):,d} bytes remote write)", flush=True)

    procs = []
    work = tempfile.mkdtemp(prefix="otlp-bench-")
    try:
        results = {}
        for what in ("otlp", "rw"):
            port = benchlib.free_port()
            sl = subprocess.Popen([args.sightline, "serve", "--data-dir", f"{work}/sl-{what}",
                                   "--listen", f"127.0.0.1:{port}", "--otlp.grpc.listen", "0"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(sl)
            benchlib.wait_http(f"http://127.0.0.1:{port}/-/ready")
            if what == "otlp":
                results["otlp"] = run("sightline OTLP/HTTP", sl.pid,
                                      f"http://127.0.0.1:{port}/v1/metrics", otlp, headers, per_req)
            else:
                results["sl_rw"] = run("sightline remote write 1.0", sl.pid,
                                       f"http://127.0.0.1:{port}/api/v1/write", rw, rw_headers, per_req)
        port = benchlib.free_port()
        cfg = os.path.join(work, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1m\n")
        prom = subprocess.Popen([args.prometheus, f"--config.file={cfg}",
                                 f"--storage.tsdb.path={work}/prom",
                                 f"--web.listen-address=127.0.0.1:{port}",
                                 "--web.enable-remote-write-receiver"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(prom)
        benchlib.wait_http(f"http://127.0.0.1:{port}/-/ready")
        results["prom_rw"] = run("prometheus 2.42 remote write 1.0", prom.pid,
                                 f"http://127.0.0.1:{port}/api/v1/write", rw, rw_headers, per_req)
        print()
        print(f"sightline OTLP: {results['otlp'] / 1e6:.2f} M points/s per core "
              f"(target >= 1.00): {'MET' if results['otlp'] >= 1e6 else 'NOT MET'}")
        print(f"OTLP vs Prometheus 2.42 remote write, same samples: "
              f"{results['otlp'] / results['prom_rw']:.2f}x")
        print(f"sightline remote write vs Prometheus 2.42 remote write: "
              f"{results['sl_rw'] / results['prom_rw']:.2f}x")
    finally:
        benchlib.stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
