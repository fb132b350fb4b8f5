#!/usr/bin/env python3
"""`sightline demo` (issue 17): time from the command to every signal visible
through the APIs the UI calls, and the whole demo's RSS and CPU.

    cargo build --release -p sightline
    python3 bench/demo_startup.py [--runs 3] [--watch 120]

Each run starts `target/release/sightline demo --listen 127.0.0.1:0` in a
fresh data folder and polls, from the moment of the start, until each of
these answers with data (the calls the UI's pages make):

- metrics: a query_range over the last 6 h with points from its first hour
  (the backfilled history), and the four services' scrape targets up (live);
- logs: `{job="shop"}` lines in the first hour and in the last minute;
- traces: a TraceQL search finding a trace;
- alerts: the three rules in /api/v1/rules;
- SLOs: three SLOs in /api/v1/slos;
- probes: probe_success of the four /healthz.

Prints each signal's time and the median over the runs of the time to all of
them, then keeps the last run going for `--watch` seconds and samples the RSS
and CPU of the process (the demo is one process: Sightline, the shop's four
services, the control server and the load generator), beside the seeds'
docker-compose memory reservations (2.3 GB: Prometheus, Loki and Grafana
512 MB each, two web apps 256 MB each, Promtail 256 MB) as a ratio.
Figures to reach: under 10 s, under 150 MB, under 0.3 cores.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, proc_cpu_seconds, proc_rss_bytes  # noqa: E402

SEEDS_RESERVATION_BYTES = 2.3e9


def get(url, path, **query):
    q = urllib.parse.urlencode(query)
    with urllib.request.urlopen(f"{url}{path}?{q}", timeout=5) as r:
        return json.load(r)


def signals(url, start_s):
    """name -> a check returning True once the signal shows."""
    six_h = 6 * 3600
    first_hour_end = start_s - 5 * 3600

    def history():
        v = get(url, "/api/v1/query_range", query="sum by (job) (http_requests_total)",
                start=start_s - six_h, end=int(time.time()), step=60)
        early = [s for s in v["data"]["result"] if any(p[0] < first_hour_end for p in s["values"])]
        return len(early) == 4

    def scrapes():
        # The targets page's API: `up` alone would not tell, the history
        # holds `up` samples up to the start.
        v = get(url, "/api/v1/targets")
        jobs = ("frontend", "checkout", "payments", "db")
        return sum(1 for t in v["data"]["activeTargets"]
                   if t["labels"].get("job") in jobs and t["health"] == "up") == 4

    def probes():
        v = get(url, "/api/v1/query", query='probe_success{job="shop-health"} == 1')
        return len(v["data"]["result"]) == 4

    def logs(lo, hi):
        def check():
            v = get(url, "/loki/api/v1/query_range", query='{job="shop"}', limit=5,
                    start=int(lo() * 1e9), end=int(hi() * 1e9))
            return sum(len(s["values"]) for s in v["data"]["result"]) > 0
        return check

    def traces():
        v = get(url, "/api/search", q='{ resource.service.name = "payments" }',
                start=start_s - 600, end=int(time.time()) + 1, limit=5)
        return len(v.get("traces") or []) > 0

    def rules():
        text = json.dumps(get(url, "/api/v1/rules"))
        return all(f'"{a}"' in text for a in ("HighErrorRate", "HighLatency", "ServiceDown"))

    def slos():
        return len(get(url, "/api/v1/slos")["data"]) == 3

    return {
        "metrics history": history,
        "metrics live": scrapes,
        "logs history": logs(lambda: start_s - six_h, lambda: first_hour_end),
        "logs live": logs(lambda: time.time() - 60, lambda: time.time() + 1),
        "traces": traces,
        "alerts (rules)": rules,
        "SLOs": slos,
        "probes": probes,
    }


def start_demo(binary, data_dir):
    """Starts the demo; returns (process, url) once its banner names the URL."""
    p = subprocess.Popen([binary, "demo", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = {}

    def read():
        for line in p.stdout:
            m = re.match(r"\s*UI\s+(http://\S+?)/?$", line)
            if m:
                found["url"] = m.group(1)
    threading.Thread(target=read, daemon=True).start()
    return p, found


def one_run(binary, keep=False):
    work = tempfile.mkdtemp(prefix="sl-demo-bench-")
    t0 = time.time()
    p, found = start_demo(binary, os.path.join(work, "data"))
    seen = {}
    deadline = t0 + 120
    checks = None
    while time.time() < deadline:
        if p.poll() is not None:
            raise SystemExit(f"sightline demo exited with {p.returncode}")
        if "url" in found and checks is None:
            checks = signals(found["url"], int(t0))
        if checks:
            for name, check in checks.items():
                if name in seen:
                    continue
                try:
                    if check():
                        seen[name] = time.time() - t0
                except Exception:
                    pass
            if len(seen) == len(checks):
                break
        time.sleep(0.1)
    if checks is None or len(seen) < len(checks):
        missing = [n for n in (checks or {}) if n not in seen]
        stop(p)
        shutil.rmtree(work, ignore_errors=True)
        raise SystemExit(f"signals not visible within 120 s: {missing or 'no banner'}")
    if keep:
        return p, work, seen
    stop(p)
    shutil.rmtree(work, ignore_errors=True)
    return None, None, seen


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "sightline"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--watch", type=int, default=120, help="seconds of RSS/CPU sampling after the last run")
    args = ap.parse_args()

    totals = []
    last = None
    for i in range(args.runs):
        keep = i == args.runs - 1
        p, work, seen = one_run(args.binary, keep=keep)
        total = max(seen.values())
        totals.append(total)
        detail = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(seen.items(), key=lambda kv: kv[1]))
        print(f"run {i + 1}: every signal visible after {total:.1f} s ({detail})", flush=True)
        if keep:
            last = (p, work)

    print(f"\ntime to every signal, median of {args.runs}: {statistics.median(totals):.1f} s (goal < 10 s)")

    p, work = last
    rss = []
    c0, t0 = proc_cpu_seconds(p.pid), time.time()
    end = t0 + args.watch
    while time.time() < end:
        rss.append(proc_rss_bytes(p.pid))
        time.sleep(1)
    cores = (proc_cpu_seconds(p.pid) - c0) / (time.time() - t0)
    stop(p)
    shutil.rmtree(work, ignore_errors=True)
    med, peak = statistics.median(rss), max(rss)
    print(f"whole demo over {args.watch} s: RSS median {med / 1e6:.0f} MB, peak {peak / 1e6:.0f} MB "
          f"(goal < 150 MB), CPU {cores:.3f} cores (goal < 0.3)")
    print(f"seeds' docker-compose reservation: {SEEDS_RESERVATION_BYTES / 1e9:.1f} GB; "
          f"demo peak RSS / reservation = {peak / SEEDS_RESERVATION_BYTES:.3f} "
          f"({SEEDS_RESERVATION_BYTES / peak:.0f}x less)")


if __name__ == "__main__":
    main()
