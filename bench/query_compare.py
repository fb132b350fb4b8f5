#!/usr/bin/env python3
"""Query latency and memory: Sightline against Prometheus on the same data.

Not a test: prints numbers measured in one run on one machine, with the
ratio to Prometheus measured in the same run (machines here are noisy).

What it does:
  1. Writes one OpenMetrics file: SERIES series (default 50,000) of a
     classic histogram, `bench_latency_seconds_bucket` (SERIES/10 instances
     x 10 `le` buckets), one sample every INTERVAL seconds for HOURS hours
     ending a few minutes ago. Label `pool="p100"` marks 100 series and
     `tier="a"` marks 10,000, for the baseline selections.
  2. Loads it into Prometheus (`promtool tsdb create-blocks-from
     openmetrics`) and into Sightline (`sightline import openmetrics`),
     starts both with no scrape jobs and the same query limits.
  3. Runs, alternating peers, each query REPEAT times over HTTP:
     - the ARCHITECTURE.md baseline: query_range over 2 min at 1 s step
       returning 100, 10k and 50k series (raw selector);
     - a dashboard set over all series: rate, sum by, histogram_quantile,
       topk, over 1h and 6h at 15 s step.
  4. Prints, per query, the median latency of each peer, the ratio
     (Sightline / Prometheus), and each peer's peak memory during the
     query, with their ratio.

How peak memory is measured: just before each request the script writes
"5" to /proc/PID/clear_refs, which resets the kernel's high-water mark of
resident memory (VmHWM) to the process's current RSS; after the response
has been read it reads VmHWM from /proc/PID/status. That is the largest
RSS the process reached while answering this one query, counted by the
kernel (no sampling gaps), and including whatever the process already
held (Prometheus's retained Go heap, our allocator's cached pages, both
stores' mapped files that are resident). "peak" is the median of that over
the runs; "+pre" is the median growth of the peak over the RSS just before
the request (what the query itself added on top of what was resident).
Both peers are measured the same way in the same run.

Usage:
  bench/query_compare.py PATH/TO/sightline [--series 50000] [--hours 6]
      [--interval 60] [--repeat 3] [--keep DIR]

Needs `prometheus` and `promtool` (Debian's 2.42) on PATH.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, proc_status_kb  # noqa: E402

BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]


def write_data(path, series, hours, interval, end_s):
    """Cumulative bucket counts; every instance grows at its own pace."""
    instances = series // len(BUCKETS)
    steps = int(hours * 3600 // interval) + 10
    start_s = end_s - steps * interval
    with open(path, "w", buffering=1 << 22) as f:
        f.write("# TYPE bench_latency_seconds histogram\n")
        for i in range(instances):
            pool = "p100" if i < 100 // len(BUCKETS) else "none"
            tier = "a" if i < 10_000 // len(BUCKETS) else "b"
            base = 1 + i % 7
            for k, le in enumerate(BUCKETS):
                name = (
                    f'bench_latency_seconds_bucket{{instance="i{i:05d}",le="{le}",'
                    f'pool="{pool}",tier="{tier}"}}'
                )
                per_step = base * (k + 1)
                lines = [
                    f"{name} {per_step * n} {start_s + n * interval}.{(i * 7 + k) % 1000:03d}\n"
                    for n in range(steps)
                ]
                f.writelines(lines)
        f.write("# EOF\n")
    return start_s


def wait_ready(url, proc, what):
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    sys.exit(f"{what} not ready after 300s")


def reset_hwm(pid):
    """Resets VmHWM to the current RSS (Linux 4.0+: clear_refs value 5)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def timed_query(url, pid, params):
    """(seconds, peak RSS in MB, RSS before in MB, ok) for one POST
    /api/v1/query_range; the peak is the kernel's VmHWM over the request."""
    before = proc_status_kb(pid, "VmRSS")
    reset_hwm(pid)
    data = urllib.parse.urlencode(params).encode()
    t0 = time.perf_counter()
    ok = True
    try:
        with urllib.request.urlopen(url + "/api/v1/query_range", data=data, timeout=600) as r:
            body = r.read()
        ok = body.startswith(b'{"status":"success"')
    except urllib.error.HTTPError as e:
        body = e.read()
        ok = False
        print(f"    error from {url}: {body[:200]!r}", file=sys.stderr)
    elapsed = time.perf_counter() - t0
    peak = proc_status_kb(pid, "VmHWM")
    return elapsed, peak / 1024.0, before / 1024.0, ok


def load(args, work, prom_dir, ours_dir):
    """Writes the data file and loads it into both stores; returns its end (s)."""
    now = int(time.time())
    end_s = now - now % 60 - 300
    data = os.path.join(work, "data.om")
    t0 = time.time()
    write_data(data, args.series, args.hours, args.interval, end_s)
    print(f"data: {args.series} series, {args.hours}h at {args.interval}s "
          f"({os.path.getsize(data) / 1e6:.0f} MB) written in {time.time() - t0:.0f}s")

    for d in (prom_dir, ours_dir):
        shutil.rmtree(d, ignore_errors=True)
    t0 = time.time()
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", data, prom_dir],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"promtool create-blocks-from: {time.time() - t0:.0f}s")
    t0 = time.time()
    subprocess.run([args.sightline, "import", "openmetrics", data, "--data-dir", ours_dir],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"sightline import openmetrics: {time.time() - t0:.0f}s")

    return end_s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sightline", help="path to the sightline binary (release build)")
    ap.add_argument("--series", type=int, default=50_000)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--interval", type=int, default=60, help="seconds between samples")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-samples", type=int, default=200_000_000,
                    help="--query.max-samples for both (6h at 15s over 50k series needs more than the default)")
    ap.add_argument("--keep", help="work directory to keep (default: a temporary one)")
    ap.add_argument("--reuse", action="store_true",
                    help="with --keep: reuse the data loaded by an earlier run in that directory")
    ap.add_argument("--only", default="", help="run only queries whose label contains this text")
    args = ap.parse_args()
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found on PATH")

    work = args.keep or tempfile.mkdtemp(prefix="query_compare.")
    os.makedirs(work, exist_ok=True)
    prom_dir, ours_dir = os.path.join(work, "prom"), os.path.join(work, "ours")
    meta = os.path.join(work, "meta.txt")
    if args.reuse and os.path.exists(meta):
        with open(meta) as f:
            end_s = int(f.read())
        print(f"reusing the data loaded in {work}")
    else:
        end_s = load(args, work, prom_dir, ours_dir)
        with open(meta, "w") as f:
            f.write(str(end_s))

    cfg = os.path.join(work, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 15s\n")
    pp, op = free_port(), free_port()
    logs = [open(os.path.join(work, n), "w") for n in ("prometheus.log", "sightline.log")]
    prom = subprocess.Popen(
        ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={prom_dir}",
         f"--web.listen-address=127.0.0.1:{pp}", "--storage.tsdb.retention.time=10y",
         f"--query.max-samples={args.max_samples}"],
        stdout=subprocess.DEVNULL, stderr=logs[0])
    ours = subprocess.Popen(
        [args.sightline, "serve", "--data-dir", ours_dir, "--listen", f"127.0.0.1:{op}",
         "--config", cfg, f"--query.max-samples={args.max_samples}"],
        stdout=subprocess.DEVNULL, stderr=logs[1])
    peers = [("prometheus", f"http://127.0.0.1:{pp}", prom), ("sightline", f"http://127.0.0.1:{op}", ours)]
    try:
        for name, url, proc in peers:
            wait_ready(url, proc, name)
        end_q = end_s - 30
        sel = "bench_latency_seconds_bucket"
        rate = f"rate({sel}[5m])"
        queries = [
            ("baseline 100 series, 2m @1s", f'{sel}{{pool="p100"}}', 120, 1),
            ("baseline 10k series, 2m @1s", f'{sel}{{tier="a"}}', 120, 1),
            ("baseline 50k series, 2m @1s", sel, 120, 1),
        ]
        for hours in (1, 6):
            if hours > args.hours:
                continue
            span = hours * 3600
            queries += [
                # Aggregated: a dashboard never draws 50k lines, and the
                # JSON of 50k raw series would measure the HTTP client.
                (f"sum(rate) {hours}h @15s", f"sum({rate})", span, 15),
                (f"sum by {hours}h @15s", f"sum by (le) ({rate})", span, 15),
                (f"histogram_quantile {hours}h @15s",
                 f"histogram_quantile(0.9, sum by (le) ({rate}))", span, 15),
                (f"topk {hours}h @15s", f"topk(10, {rate})", span, 15),
            ]
        print(f"\n{'query':<34} {'prometheus':>11} {'sightline':>11} {'ratio':>6}"
              f" {'prom peak':>10} {'ours peak':>10} {'ratio':>6} {'prom +pre':>10} {'ours +pre':>10}")
        queries = [x for x in queries if args.only in x[0]]
        for label, q, span, step in queries:
            params = {"query": q, "start": str(end_q - span), "end": str(end_q), "step": str(step)}
            times = {n: [] for n, _, _ in peers}
            peak = {n: [] for n, _, _ in peers}
            grow = {n: [] for n, _, _ in peers}
            oks = {n: True for n, _, _ in peers}
            for _ in range(args.repeat):
                for name, url, proc in peers:
                    el, hwm, before, ok = timed_query(url, proc.pid, params)
                    times[name].append(el)
                    peak[name].append(hwm)
                    grow[name].append(hwm - before)
                    oks[name] &= ok
            med = {n: {k: statistics.median(v[n]) for k, v in
                       (("t", times), ("peak", peak), ("grow", grow))} for n in times}
            mp, mo = med["prometheus"], med["sightline"]
            flag = "" if all(oks.values()) else "  (errors: " + ",".join(n for n, o in oks.items() if not o) + ")"
            print(f"{label:<34} {mp['t'] * 1000:>9.0f}ms {mo['t'] * 1000:>9.0f}ms {mo['t'] / mp['t']:>6.2f}"
                  f" {mp['peak']:>8.0f}MB {mo['peak']:>8.0f}MB {mo['peak'] / mp['peak']:>6.2f}"
                  f" {mp['grow']:>8.0f}MB {mo['grow']:>8.0f}MB{flag}", flush=True)
        print("\nratio = Sightline median / Prometheus median (below 1: Sightline faster or smaller);"
              "\npeak = median over runs of the largest RSS during the request (VmHWM reset just before it);"
              "\n+pre = median growth of that peak over the RSS just before the request")
    finally:
        for _, _, proc in peers:
            proc.send_signal(signal.SIGTERM)
        for _, _, proc in peers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
