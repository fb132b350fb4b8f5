#!/usr/bin/env python3
"""Soak (issue 18): every ingest path at twice the demo's load for an hour;
RSS, CPU, open files and disk sampled and plotted; RSS must be flat after the
warm-up: growth over the last 30 minutes under 5%.

    cargo build --release -p sightline
    python3 -u bench/soak.py [--minutes 60] [--out /tmp/soak]

The process under test is `sightline demo --no-backfill --requests-per-second
40` (the demo's default is 20): the shop's four services are scraped, their
JSON log files tailed, their /healthz probed, and they send spans and logs
over OTLP/HTTP, all at twice the demo's rate. Beside it this script drives the
intakes the shop does not use, each at a steady rate of its own:

- Prometheus remote write 1.0: 2,000 series every 15 s (a second Prometheus
  forwarding its scrapes), samples of the same series throughout;
- OTLP/HTTP metrics (JSON): 200 gauge points every 15 s;
- Loki push (JSON): 40 lines/s in 8 streams;
- Zipkin v2 (JSON): 40 spans/s, 8 per trace.

Every 10 s it samples the process's RSS (VmRSS) and anonymous RSS, CPU
seconds, open file descriptors and the data folder's size, writes them to
OUT/soak.csv, and at the end plots OUT/soak.png (matplotlib, when installed)
and prints the figures: RSS growth over the last 30 minutes (median of the
last 3 minutes against the median of the 3 minutes at the start of that
window, and the least-squares slope over the window), mean CPU, and the
ranges of open files and disk. Writes refused by the server are counted and
printed: at this load there should be none.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIGHTLINE = os.path.join(ROOT, "target", "release", "sightline")


def post(url, body, ctype):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


class Driver:
    """The intakes the shop does not use, each on its own thread."""

    def __init__(self, base, stop):
        self.base, self.stop = base, stop
        self.sent, self.refused = {}, {}
        self.lock = threading.Lock()

    def count(self, path, status):
        with self.lock:
            key = self.sent if 200 <= status < 300 else self.refused
            key[path] = key.get(path, 0) + 1

    def every(self, seconds, fn):
        def loop():
            nxt = time.time()
            while not self.stop.is_set():
                fn()
                nxt += seconds
                self.stop.wait(max(0.0, nxt - time.time()))
        t = threading.Thread(target=loop, daemon=True)
        t.start()
        return t

    def remote_write(self):
        from otlp_ingest import remote_write_body
        now = int(time.time() * 1000)
        series = [({"__name__": "soak_requests_total", "job": "soak-forwarder",
                    "instance": "host-%02d" % (i % 20), "path": "/api/%d" % (i // 20)},
                   [(0, float(now // 1000 + i))]) for i in range(2000)]
        body = remote_write_body(series, now)
        st = post(self.base + "/api/v1/write", body, "application/x-protobuf")
        self.count("remote_write", st)

    def otlp_metrics(self):
        now = time.time_ns()
        points = [{"asDouble": random.random() * 100, "timeUnixNano": str(now),
                   "attributes": [{"key": "queue", "value": {"stringValue": "q%d" % i}}]}
                  for i in range(200)]
        body = {"resourceMetrics": [{
            "resource": {"attributes": [{"key": "service.name",
                                         "value": {"stringValue": "soak-worker"}}]},
            "scopeMetrics": [{"metrics": [{"name": "soak_queue_depth",
                                           "gauge": {"dataPoints": points}}]}]}]}
        st = post(self.base + "/v1/metrics", json.dumps(body).encode(), "application/json")
        self.count("otlp_metrics", st)

    def loki(self):
        now = time.time_ns()
        streams = []
        for s in range(8):
            values = [[str(now + i), 'level=info msg="soak line" stream=%d i=%d user=u%d'
                       % (s, i, random.randrange(1000))] for i in range(5)]
            streams.append({"stream": {"job": "soak", "pod": "pod-%d" % s}, "values": values})
        st = post(self.base + "/loki/api/v1/push", json.dumps({"streams": streams}).encode(),
                  "application/json")
        self.count("loki_push", st)

    def zipkin(self):
        now = int(time.time() * 1e6)
        spans = []
        for t in range(5):
            trace = "%032x" % random.getrandbits(128)
            root = "%016x" % random.getrandbits(64)
            for i in range(8):
                sid = root if i == 0 else "%016x" % random.getrandbits(64)
                span = {"traceId": trace, "id": sid, "name": "op-%d" % i,
                        "timestamp": now + i * 10, "duration": 1000 + i * 100,
                        "localEndpoint": {"serviceName": "soak-%d" % (i % 3)},
                        "tags": {"http.route": "/r/%d" % i}}
                if i:
                    span["parentId"] = root
                spans.append(span)
        st = post(self.base + "/api/v2/spans", json.dumps(spans).encode(), "application/json")
        self.count("zipkin", st)


def dir_bytes(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_size
            except OSError:
                pass
    return total


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


def slope_per_window(rows, window_s):
    """Least-squares RSS slope over the rows, as bytes per `window_s`."""
    xs = [r["t"] for r in rows]
    ys = [r["rss"] for r in rows]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den * window_s


def plot(rows, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot (the CSV has the samples)")
        return
    mins = [r["t"] / 60 for r in rows]
    fig, ax = plt.subplots(4, 1, figsize=(9, 10), sharex=True)
    ax[0].plot(mins, [r["rss"] / 2**20 for r in rows], label="RSS")
    ax[0].plot(mins, [r["anon"] / 2**20 for r in rows], label="anonymous RSS")
    ax[0].set_ylabel("MiB")
    ax[0].legend()
    cpu = [0.0] + [(b["cpu"] - a["cpu"]) / max(1e-9, b["t"] - a["t"])
                   for a, b in zip(rows, rows[1:])]
    ax[1].plot(mins, cpu)
    ax[1].set_ylabel("cores")
    ax[2].plot(mins, [r["fds"] for r in rows])
    ax[2].set_ylabel("open files")
    ax[3].plot(mins, [r["disk"] / 2**20 for r in rows])
    ax[3].set_ylabel("data MiB")
    ax[3].set_xlabel("minutes")
    fig.suptitle("sightline demo at 2x load + remote write, OTLP, Loki, Zipkin pushes")
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    print("plot:", out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--out", default="/tmp/soak")
    ap.add_argument("--every", type=float, default=10, help="seconds between samples")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    data = os.path.join(args.out, "data")
    shutil.rmtree(data, ignore_errors=True)
    port = benchlib.free_port()
    control = benchlib.free_port()
    log = open(os.path.join(args.out, "sightline.log"), "w")
    proc = subprocess.Popen([SIGHTLINE, "demo", "--no-backfill", "--data-dir", data,
                             "--listen", "127.0.0.1:%d" % port,
                             "--control", "127.0.0.1:%d" % control,
                             "--requests-per-second", "40"],
                            stdout=log, stderr=subprocess.STDOUT)
    base = "http://127.0.0.1:%d" % port
    stop = threading.Event()
    try:
        benchlib.wait_http(base + "/-/ready", timeout=120)
        drv = Driver(base, stop)
        drv.every(15, drv.remote_write)
        drv.every(15, drv.otlp_metrics)
        drv.every(1, drv.loki)
        drv.every(1, drv.zipkin)
        rows = []
        t0 = time.time()
        csv = open(os.path.join(args.out, "soak.csv"), "w")
        csv.write("t,rss,anon,cpu,fds,disk\n")
        end = t0 + args.minutes * 60
        while time.time() < end:
            if proc.poll() is not None:
                raise SystemExit("sightline exited with %s; see %s/sightline.log"
                                 % (proc.returncode, args.out))
            row = {"t": time.time() - t0,
                   "rss": benchlib.proc_rss_bytes(proc.pid),
                   "anon": benchlib.proc_status_kb(proc.pid, "RssAnon") * 1024,
                   "cpu": benchlib.proc_cpu_seconds(proc.pid),
                   "fds": open_fds(proc.pid), "disk": dir_bytes(data)}
            rows.append(row)
            csv.write("%.1f,%d,%d,%.2f,%d,%d\n" % (row["t"], row["rss"], row["anon"],
                                                   row["cpu"], row["fds"], row["disk"]))
            csv.flush()
            if len(rows) % 30 == 0:
                print("%5.1f min: RSS %.1f MiB, fds %d, disk %.1f MiB, sent %s, refused %s"
                      % (row["t"] / 60, row["rss"] / 2**20, row["fds"], row["disk"] / 2**20,
                         drv.sent, drv.refused))
            time.sleep(args.every)
        stop.set()
    finally:
        stop.set()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()

    total = rows[-1]["t"]
    window = [r for r in rows if r["t"] >= total - 30 * 60]
    first = [r["rss"] for r in window if r["t"] <= window[0]["t"] + 180]
    last = [r["rss"] for r in window if r["t"] >= total - 180]
    growth = statistics.median(last) / statistics.median(first) - 1
    slope = slope_per_window(window, 30 * 60) / statistics.fmean(r["rss"] for r in window)
    cpu = (rows[-1]["cpu"] - rows[0]["cpu"]) / max(1.0, total)
    print()
    print("ran %.1f min; sent %s; refused %s" % (total / 60, drv.sent, drv.refused))
    print("RSS: start of the last 30 min %.1f MiB, end %.1f MiB, peak %.1f MiB"
          % (statistics.median(first) / 2**20, statistics.median(last) / 2**20,
             max(r["rss"] for r in rows) / 2**20))
    print("RSS growth over the last 30 min: %+.1f%% (medians), %+.1f%% (fitted slope); "
          "target < 5%%: %s" % (growth * 100, slope * 100,
                                "MET" if max(growth, slope) < 0.05 else "NOT MET"))
    print("CPU: %.3f cores mean" % cpu)
    print("open files: %d-%d; data folder: %.1f -> %.1f MiB"
          % (min(r["fds"] for r in rows), max(r["fds"] for r in rows),
             rows[0]["disk"] / 2**20, rows[-1]["disk"] / 2**20))
    plot(rows, os.path.join(args.out, "soak.png"))


if __name__ == "__main__":
    main()
