#!/usr/bin/env python3
"""Synthetic scrape targets for the side-by-side benchmarks.

Serves N targets on consecutive ports, each exposing `series_per_target`
series in the Prometheus text format: a realistic mix of counters that grow
at different rates (with occasional resets), noisy gauges and classic
histograms. Bodies are re-rendered once per second in a background thread,
so every scrape sees new values, and serving a request costs the same for
every scraper (both peers scrape the same bytes).

Usage: fake_targets.py --base-port 19100 --targets 10 --series-per-target 5000
"""
import argparse
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]


class Target:
    def __init__(self, idx, n_series, seed):
        self.rng = random.Random(seed)
        self.idx = idx
        self.series = []  # (name_with_labels, kind, state)
        methods = ["GET", "POST", "PUT", "DELETE"]
        codes = ["200", "201", "400", "404", "500", "503"]
        i = 0
        while len(self.series) < n_series:
            fam = i % 4
            route = f"/api/v{i % 3}/resource{i // 12}"
            if fam == 0:
                for code in codes:
                    lbl = f'http_requests_total{{method="{methods[i % 4]}",route="{route}",code="{code}"}}'
                    self.series.append([lbl, "counter", self.rng.random() * 1000, self.rng.random() * 20])
            elif fam == 1:
                lbl = f'process_open_connections{{pool="p{i}",route="{route}"}}'
                self.series.append([lbl, "gauge", self.rng.random() * 100, 0])
            elif fam == 2:
                base = f'http_request_duration_seconds_bucket{{route="{route}",method="{methods[i % 4]}"'
                for le in BUCKETS:
                    self.series.append([f'{base},le="{le}"}}', "bucket", 0.0, 0])
            else:
                lbl = f'queue_depth_items{{queue="q{i}",shard="{i % 16}"}}'
                self.series.append([lbl, "gauge", self.rng.random() * 1000, 0])
            i += 1
        self.series = self.series[:n_series]
        self.body = b""
        self.render()

    def render(self):
        rng = self.rng
        out = []
        bucket_acc = 0.0
        for s in self.series:
            kind = s[1]
            if kind == "counter":
                if rng.random() < 0.0005:
                    s[2] = 0.0  # a process restart
                s[2] += rng.random() * s[3]
                out.append(f"{s[0]} {s[2]:.3f}")
            elif kind == "gauge":
                s[2] = max(0.0, s[2] + rng.gauss(0, 3))
                out.append(f"{s[0]} {s[2]:.4f}")
            else:
                if 'le="0.005"' in s[0]:
                    bucket_acc = 0.0
                bucket_acc += rng.random() * 5
                s[2] += bucket_acc
                out.append(f"{s[0]} {s[2]:.0f}")
        self.body = ("\n".join(out) + "\n").encode()


def serve(port, target):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = target.body
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-port", type=int, default=19100)
    ap.add_argument("--targets", type=int, default=10)
    ap.add_argument("--series-per-target", type=int, default=5000)
    args = ap.parse_args()
    targets = [Target(i, args.series_per_target, i) for i in range(args.targets)]
    for i, t in enumerate(targets):
        serve(args.base_port + i, t)
    print(f"serving {args.targets} targets x {args.series_per_target} series", flush=True)
    while True:
        start = time.time()
        for t in targets:
            t.render()
        time.sleep(max(0.0, 1.0 - (time.time() - start)))


if __name__ == "__main__":
    main()
