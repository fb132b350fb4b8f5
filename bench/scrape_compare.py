#!/usr/bin/env python3
"""Side-by-side scrape benchmark: Debian's Prometheus and Sightline scrape
the same synthetic targets with the same prometheus.yml, in the same run.

Prints each one's RSS (median of samples taken over the measurement window)
and CPU (cores, from /proc utime+stime over the window), and the ratios
Sightline/Prometheus. Not a test: run it on purpose.

Usage: bench/scrape_compare.py [--series 50000] [--targets 10] [--interval 1s]
                               [--warmup 90] [--duration 120]
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
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {url}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=50000)
    ap.add_argument("--targets", type=int, default=10)
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--warmup", type=int, default=90)
    ap.add_argument("--duration", type=int, default=120)
    ap.add_argument("--sightline", default=os.path.join(ROOT, "target/release/sightline"))
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    ap.add_argument("--timeline", action="store_true",
                    help="also print both RSS figures every 30 s of the window (head chunks pile up "
                         "with time at a 1 s interval, so short windows flatter whoever keeps them in RAM)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="scrape-bench-")
    base_port = 19100
    per = args.series // args.targets
    procs = []
    try:
        procs.append(subprocess.Popen([sys.executable, os.path.join(ROOT, "bench/fake_targets.py"),
                                       "--base-port", str(base_port), "--targets", str(args.targets),
                                       "--series-per-target", str(per)]))
        targets = ", ".join(f"'127.0.0.1:{base_port + i}'" for i in range(args.targets))
        cfg = os.path.join(work, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"global:\n  scrape_interval: {args.interval}\n  scrape_timeout: {args.interval}\n"
                    f"scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [{targets}]\n")
        for i in range(args.targets):
            wait_http(f"http://127.0.0.1:{base_port + i}/metrics")

        prom = subprocess.Popen([args.prometheus, f"--config.file={cfg}",
                                 f"--storage.tsdb.path={work}/prom", "--web.listen-address=127.0.0.1:19090"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(prom)
        sl = subprocess.Popen([args.sightline, "serve", "--config", cfg, "--data-dir", f"{work}/sightline",
                               "--listen", "127.0.0.1:19091"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(sl)
        wait_http("http://127.0.0.1:19090/-/ready")
        wait_http("http://127.0.0.1:19091/-/ready")
        print(f"warming up {args.warmup}s with {args.series} series every {args.interval}...", flush=True)
        time.sleep(args.warmup)

        peers = {"prometheus": prom.pid, "sightline": sl.pid}
        cpu0 = {k: proc_cpu_seconds(p) for k, p in peers.items()}
        t0 = time.time()
        rss = {k: [] for k in peers}
        last_line = t0
        while time.time() - t0 < args.duration:
            for k, p in peers.items():
                rss[k].append(proc_rss_bytes(p))
            if args.timeline and time.time() - last_line >= 30:
                last_line = time.time()
                print(f"  t={args.warmup + last_line - t0:6.0f}s  RSS MB: prometheus "
                      f"{rss['prometheus'][-1] / 2**20:7.1f}  sightline {rss['sightline'][-1] / 2**20:7.1f}",
                      flush=True)
            time.sleep(5)
        elapsed = time.time() - t0
        cpu = {k: (proc_cpu_seconds(p) - cpu0[k]) / elapsed for k, p in peers.items()}
        med = {k: statistics.median(v) for k, v in rss.items()}

        print(f"\n{'':12} {'RSS MB (median)':>16} {'CPU cores':>10}")
        for k in peers:
            print(f"{k:12} {med[k] / 2**20:16.1f} {cpu[k]:10.3f}")
        print(f"{'ratio s/p':12} {med['sightline'] / med['prometheus']:16.3f} "
              f"{cpu['sightline'] / max(cpu['prometheus'], 1e-9):10.3f}")
        print(f"(targets: RSS <= 0.333, CPU <= 0.5; {args.series} series, {args.interval} interval, "
              f"{args.duration}s window)")
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
